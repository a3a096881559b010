// The CLI's side of workspace trust: --trust grants it, a terminal is asked, anything else
// (a pipe, CI) leaves the workspace untrusted. The question quotes the workspace's files (paths,
// URLs): it is shown inert. Either way the configuration is resolved from what
// may apply, and what was ignored is said once on stderr.
import { resolveConfig, type BatonConfig } from '../core/config/config';
import { askYesNo } from '../core/host/askYesNo';
import { decideTrust, untrustedNotice } from '../core/security/workspaceTrust';
import { inertBlock } from '../base/common/inert';

export interface CliWorkspace {
  trusted: boolean;
  config: BatonConfig;
}

export async function cliWorkspace(root: string, grant: boolean, say: (line: string) => void): Promise<CliWorkspace> {
  const canAsk = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const decision = await decideTrust(root, {
    grant,
    ask: canAsk ? (question) => askYesNo(`${inertBlock(question)}\nTrust this workspace? [y/N] `, { input: process.stdin, output: process.stderr }) : undefined,
  });
  const notice = untrustedNotice(decision, 'run again with --trust to use them');
  if (notice) say(notice);
  return { trusted: decision.trusted, config: resolveConfig(root, { trusted: decision.trusted }) };
}
