// Placeholder until the chat webview lands.
export {};
