// Entry point of dist/server.js: `node dist/server.js --stdio` (or --node-ipc from the extension).
import { launchServer } from './launch';

launchServer();
