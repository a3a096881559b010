// The API key lives in SecretStorage only; it reaches the server through its process environment
// (client.ts) and is never written to settings, initializationOptions or logs.
import type * as vscode from 'vscode';

export const API_KEY_SECRET = 'baton.apiKey';

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(): Promise<string | undefined> {
    const key = await this.secrets.get(API_KEY_SECRET);
    return key ? key : undefined;
  }

  /** An empty value deletes the key. */
  async set(value: string): Promise<void> {
    if (value.trim() === '') await this.secrets.delete(API_KEY_SECRET);
    else await this.secrets.store(API_KEY_SECRET, value.trim());
  }

  onDidChange(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((e) => {
      if (e.key === API_KEY_SECRET) listener();
    });
  }
}
