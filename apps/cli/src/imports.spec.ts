import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Every module reachable from `entry` through relative imports, and the bare ones they name. */
function reachableImports(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const specifiers = [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1]);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(resolve(file, '..', `${specifier}.ts`));
      else bare.add(specifier);
    }
  };
  visit(entry);
  return { files, bare };
}

describe('the CLI imports', () => {
  it('reach the SDK through its Node entry only, never @noble/hashes (ESM-only)', () => {
    const { files, bare } = reachableImports(join(__dirname, 'main.ts'));
    const cliModules = readdirSync(__dirname).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));
    cliModules.forEach((name) => expect(files).toContain(join(__dirname, name)));
    expect(files).toContain(resolve(__dirname, '../../../libs/client/src/node.ts'));
    expect(files).not.toContain(resolve(__dirname, '../../../libs/client/src/index.ts'));
    expect([...bare].filter((name) => name.startsWith('@noble/'))).toEqual([]);
  });
});
