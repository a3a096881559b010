// Runs inside a worker_threads Worker: builds the real embedder from the spec in workerData and
// answers WorkerEmbedder's requests. Vectors travel back as transferred Float32Array buffers.
import { parentPort, workerData } from 'node:worker_threads';
import { createEmbedder } from './createEmbedder';
import type { Embedder, EmbedderSpec } from './types';
import type { FromWorker, ToWorker } from './workerEmbedder';
import { quietNativeRuntime } from './nativeRuntimeEnv';
import {  } from '../../base/common/errors';
import { errorMessage } from '../../base/common/errors';

const port = parentPort;
if (!port) throw new Error('embedWorker.js must run in a worker thread');

// Only this thread's copy of the environment: WorkerEmbedder set the real one before starting us.
quietNativeRuntime();

const spec = (workerData as { spec: EmbedderSpec }).spec;
let embedder: Embedder | null | undefined;
const inFlight = new Map<number, AbortController>();

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}


function getEmbedder(): Embedder {
  embedder ??= createEmbedder(spec, { inWorker: false });
  if (!embedder) throw new Error(`embedder kind "${spec.kind}" computes no vectors`);
  return embedder;
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'init':
    case 'embed': {
      const controller = new AbortController();
      inFlight.set(msg.id, controller);
      void (async () => {
        try {
          const e = getEmbedder();
          await e.init(controller.signal);
          if (msg.type === 'init') {
            send({ type: 'ready', id: msg.id, embedderId: e.id, dimensions: e.dimensions, headRepeat: e.documentHeadRepeat ?? 0 });
          } else {
            const vectors = await e.embed(msg.texts, msg.kind, controller.signal);
            // Copy out of any shared/pooled buffer, then hand the memory over instead of cloning it.
            const owned = vectors.map((v) => (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice()));
            send({ type: 'result', id: msg.id, vectors: owned }, owned.map((v) => v.buffer as ArrayBuffer));
          }
        } catch (err) {
          if (!controller.signal.aborted) send({ type: 'error', id: msg.id, message: errorMessage(err) });
        } finally {
          inFlight.delete(msg.id);
        }
      })();
      return;
    }
    case 'cancel':
      inFlight.get(msg.id)?.abort(new Error('embedding aborted'));
      return;
    case 'dispose':
      void (async () => {
        for (const c of inFlight.values()) c.abort(new Error('embedder disposed'));
        await embedder?.dispose().catch(() => undefined);
        send({ type: 'disposed', id: msg.id });
      })();
      return;
    case 'debug-exit':
      // Simulates a native crash (the thread dies without answering): for tests of recovery.
      process.exit(msg.code);
      return;
    case 'debug-throw':
      setImmediate(() => { throw new Error(msg.message); });
      return;
  }
});
