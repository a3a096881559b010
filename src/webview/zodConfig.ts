// Imported first by chat.ts: zod decides at schema construction whether to compile parsers with
// `new Function`, and its probe alone is reported as a violation of the webview's no-eval CSP.
import { z } from 'zod';

z.config({ jitless: true });
