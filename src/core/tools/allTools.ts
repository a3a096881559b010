// The one place Baton's core tools are assembled into a registry (the tool modules and the
// registry know nothing of each other).
import { CODE_TOOLS } from './codeTools';
import { EDITOR_TOOLS } from './editorTools';
import { ToolRegistry, type RegistryOptions } from './registry';

/** A registry holding Baton's core tools: search_code, grep, find_files, read_file, list_symbols,
 * get_diagnostics, propose_edit and run_command. */
export function createCoreToolRegistry(opts: RegistryOptions = {}): ToolRegistry {
  return new ToolRegistry(opts).register(...CODE_TOOLS, ...EDITOR_TOOLS);
}
