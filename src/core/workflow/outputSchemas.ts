// Structured outputs an llm node can ask for by name (`"schema": "codeFix"`). They are defined in
// code, so a workflow file names a shape but never ships validation logic of its own.
import { z } from 'zod';

export const OUTPUT_SCHEMAS = {
  /** The fix workflow's result: the corrected selection, ready to show as a diff and apply. */
  codeFix: z.object({
    explanation: z.string().min(1).describe('What was wrong and how the change fixes it, in one or two sentences.'),
    code: z.string().min(1).describe('The complete corrected selection; it replaces the selected lines as is.'),
  }),
} satisfies Record<string, z.ZodType>;

export type OutputSchemaName = keyof typeof OUTPUT_SCHEMAS;

export function isOutputSchemaName(name: string): name is OutputSchemaName {
  return Object.prototype.hasOwnProperty.call(OUTPUT_SCHEMAS, name);
}
