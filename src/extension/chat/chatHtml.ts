// The chat webview's page. vscode-free so the browser test loads exactly what the extension serves.
// The CSP allows only the extension's own stylesheet and the one nonce'd script: no inline styles,
// no inline or eval'd scripts, no frames, no network.
import { randomBytes } from 'node:crypto';

export interface ChatHtmlOptions {
  /** webview.cspSource */
  cspSource: string;
  /** Fresh for every page (makeNonce). */
  nonce: string;
  /** asWebviewUri(dist/webview/chat.js) */
  scriptUri: string;
  /** asWebviewUri(media/chat.css) */
  styleUri: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function chatHtml(o: ChatHtmlOptions): string {
  if (!/^[\w+/=-]{16,}$/.test(o.nonce)) throw new Error('chatHtml: the nonce must be a fresh random token');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>Baton Chat</title>
</head>
<body>
<div class="baton-toolbar" role="toolbar" aria-label="Chat">
  <label class="baton-visually-hidden" for="baton-history">Conversation history</label>
  <select id="baton-history" aria-label="Open an earlier conversation"></select>
  <label class="baton-visually-hidden" for="baton-model">Model</label>
  <select id="baton-model" aria-label="Chat model"></select>
  <button type="button" id="baton-new" class="baton-button secondary" aria-label="New chat" title="New chat">New</button>
</div>
<main id="baton-messages" role="log" aria-live="polite" aria-label="Conversation"></main>
<div id="baton-status" role="status" aria-live="polite"></div>
<div id="baton-context" class="baton-context" hidden>
  <span id="baton-context-label" class="baton-context-label"></span>
  <button type="button" id="baton-context-drop" class="baton-context-drop" aria-label="Do not send this file with the question" title="Do not send this file with the question">×</button>
</div>
<div class="baton-composer">
  <label class="baton-visually-hidden" for="baton-input">Ask Baton</label>
  <textarea id="baton-input" rows="3" placeholder="Ask about your code (Enter to send, Shift+Enter for a new line)"></textarea>
  <button type="button" id="baton-send" class="baton-button" aria-label="Send question" title="Send (Enter)">Send</button>
  <button type="button" id="baton-stop" class="baton-button secondary" aria-label="Stop answering" title="Stop" hidden>Stop</button>
</div>
<script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
