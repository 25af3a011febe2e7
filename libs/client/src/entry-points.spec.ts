import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The relative modules a file imports, and the bare ones (packages, node: builtins). */
function importsOf(file: string): { local: string[]; bare: string[] } {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1]);
  return { local: specifiers.filter((s) => s.startsWith('.')), bare: specifiers.filter((s) => !s.startsWith('.')) };
}

/** Every bare import reachable from `entry` through relative imports. */
function reachableBareImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const found = importsOf(file);
    found.bare.forEach((name) => bare.add(name));
    found.local.forEach((relative) => visit(join(file, '..', `${relative}.ts`)));
  };
  visit(entry);
  return bare;
}

describe('entry points', () => {
  it('keep node modules out of the browser entry', () => {
    const imports = reachableBareImports(join(__dirname, 'index.ts'));
    expect([...imports].filter((name) => name.startsWith('node:') || ['fs', 'path', 'crypto', 'os'].includes(name))).toEqual([]);
    expect(imports).toContain('@noble/hashes/sha2.js');
  });

  it('give Node file paths and native hashing, and not the browser hashing library', () => {
    const imports = reachableBareImports(join(__dirname, 'node.ts'));
    expect(imports).toContain('node:fs/promises');
    expect(imports).not.toContain('@noble/hashes/sha2.js');
  });
});
