// Keeps ONNX Runtime (loaded by transformers.js for local embedding models) from writing outside
// Baton's own folders. onnxruntime-node's Linux build carries Microsoft's 1DS telemetry SDK: when
// its environment is created it writes an empty mat-debug-<pid>.log and a .ses file into the temp
// folder and an event database under $XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/,
// unless ORT_DISABLE_TELEMETRY is set in the process environment. transformers.js sets it itself,
// but through process.env, which in a worker thread is a private copy that the native library's
// getenv() never sees: it has to be set on the main thread before the worker that loads the
// runtime starts.
const QUIET: Readonly<Record<string, string>> = { ORT_DISABLE_TELEMETRY: '1' };

/** Sets the variables; on the main thread this changes the real process environment. Call it
 * before loading transformers.js and before starting an embedding worker. */
export function quietNativeRuntime(): void {
  for (const [name, value] of Object.entries(QUIET)) process.env[name] = value;
}

