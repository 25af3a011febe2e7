import { contentDisposition, fileNameProblem } from './file-name';

describe(fileNameProblem.name, () => {
  it.each([
    ['a plain name', 'report.pdf'],
    ['one character', 'a'],
    ['255 ASCII bytes', 'x'.repeat(255)],
    ['255 bytes of multi-byte UTF-8', 'é'.repeat(127) + 'x'],
    ['spaces and punctuation', "my file (1) - copy's [final].tar.gz"],
    ['non-Latin scripts', '日本語のファイル.txt'],
    ['an emoji', 'holiday 🎉.jpg'],
    ['a leading dot', '.env'],
    ['three dots', '...'],
    ['a name with dots around it', '..a..'],
    ['right-to-left letters', 'שלום עולם.txt'],
    ['a device name inside a longer name', 'console.log'],
    ['a device name with a suffix', 'con1.txt'],
    ['a device name after other text', 'my con.txt'],
    ['a device name as the extension', 'notes.con'],
    ['COM with two digits', 'COM10.txt'],
    ['LPT without a digit', 'lpt.txt'],
    ['a device name joined by an underscore', 'nul_results.csv'],
  ])('accepts %s', (_why, name) => {
    expect(fileNameProblem(name)).toBeNull();
  });

  it.each([
    ['an empty name', '', /1 to 255 bytes/],
    ['256 ASCII bytes', 'x'.repeat(256), /1 to 255 bytes/],
    ['256 bytes of multi-byte UTF-8 (128 characters)', 'é'.repeat(128), /1 to 255 bytes/],
    ['"."', '.', /"\." or "\.\."/],
    ['".."', '..', /"\." or "\.\."/],
    ['a slash', 'a/b', /"\/"/],
    ['a path traversal', '../etc/passwd', /"\/"/],
    ['a backslash', 'a\\b', /"\\"/],
    ['a Windows path', '..\\secret.txt', /"\\"/],
    ['NUL', 'a\u0000b', /control characters/],
    ['a newline', 'a\nb', /control characters/],
    ['a carriage return', 'a\rb', /control characters/],
    ['a tab', 'a\tb', /control characters/],
    ['an escape character', '\u001b[31mred', /control characters/],
    ['DEL', 'a\u007fb', /control characters/],
    ['a C1 control', 'a\u0085b', /control characters/],
    ['a start-of-heading control', '\u0001report.pdf', /control characters/],
    ['a line separator', 'a\u2028b', /line breaks/],
    ['a paragraph separator', 'a\u2029b', /line breaks/],
    ['a lone high surrogate', 'a\ud800b', /valid UTF-8/],
    ['a lone low surrogate', 'a\udc00', /valid UTF-8/],
  ])('rejects %s', (_why, name, reason) => {
    expect(fileNameProblem(name)).toMatch(reason);
  });

  it.each(['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'])(
    'rejects the bidirectional control %j, saying it can disguise the extension',
    (character) => {
      expect(fileNameProblem(`invoice${character}fdp.exe`)).toMatch(/bidirectional .* disguise the real extension: rename the file/);
    },
  );

  it.each([
    ['CON', 'CON'],
    ['prn', 'PRN'],
    ['Aux', 'AUX'],
    ['nul', 'NUL'],
    ['COM1', 'COM1'],
    ['com9', 'COM9'],
    ['LPT1', 'LPT1'],
    ['Lpt1', 'LPT1'],
    ['lpt9', 'LPT9'],
    ['COM0', 'COM0'],
    ['com\u00b9', 'COM\u00b9'],
    ['con.txt', 'CON'],
    ['NUL.tar.gz', 'NUL'],
    ['aux.', 'AUX'],
    ['CON ', 'CON'],
    ['con .txt', 'CON'],
    ['LPT3.c', 'LPT3'],
  ])('rejects the Windows device name %j, naming the device and asking for a rename', (name, device) => {
    const problem = fileNameProblem(name);
    expect(problem).toMatch(/reserved on Windows/);
    expect(problem).toContain(`"${device}"`);
    expect(problem).toMatch(/rename the file/);
  });
});

/** Splits a Content-Disposition value into its fallback and its decoded exact name. */
function parseDisposition(value: string): { type: string; fallback: string; encoded: string } {
  const match = /^(attachment); filename="([^"]*)"; filename\*=UTF-8''(\S*)$/.exec(value);
  if (!match) throw new Error(`not an attachment disposition with both parameters: ${value}`);
  return { type: match[1], fallback: match[2], encoded: match[3] };
}

// RFC 5987 attr-char, or a percent-encoded octet.
const EXT_VALUE = /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*$/;

describe(contentDisposition.name, () => {
  it('serves a plain ASCII name unchanged in both parameters', () => {
    expect(contentDisposition('report-2024_v2.pdf')).toBe(`attachment; filename="report-2024_v2.pdf"; filename*=UTF-8''report-2024_v2.pdf`);
  });

  it('percent-encodes the exact name as UTF-8 in filename*', () => {
    expect(parseDisposition(contentDisposition('résumé.pdf')).encoded).toBe('r%C3%A9sum%C3%A9.pdf');
  });

  it('encodes the characters RFC 5987 does not allow bare, including quote, parentheses and asterisk', () => {
    expect(parseDisposition(contentDisposition("it's (big)*.txt")).encoded).toBe('it%27s%20%28big%29%2A.txt');
  });

  it('keeps a space as a space in the fallback', () => {
    expect(parseDisposition(contentDisposition('my file.txt')).fallback).toBe('my file.txt');
  });

  it.each([
    ['a double quote', 'say "hi".txt', 'say _hi_.txt'],
    ['a percent sign, which some browsers would decode', '100%.txt', '100_.txt'],
    ['a backslash', 'a\\b.txt', 'a_b.txt'],
  ])('replaces %s in the fallback', (_why, name, fallback) => {
    expect(parseDisposition(contentDisposition(name)).fallback).toBe(fallback);
  });

  it('folds compatibility characters to their ASCII form in the fallback', () => {
    expect(parseDisposition(contentDisposition('ﬁle①.txt')).fallback).toBe('file1.txt');
  });

  it.each([
    'résumé.pdf',
    '日本語のファイル.txt',
    'holiday 🎉.jpg',
    'say "hi" 100% (copy)*.txt',
    "l'été.txt",
    'tab\tname.txt',
    'x'.repeat(255),
    'Ωmega ß straße.doc',
  ])('gives an ASCII-safe fallback and an exact, well-formed filename* for %p', (name) => {
    const value = contentDisposition(name);
    const { type, fallback, encoded } = parseDisposition(value);
    expect(type).toBe('attachment');
    expect(fallback).toMatch(/^[\x20-\x7e]*$/);
    expect(fallback).not.toMatch(/["\\%]/);
    expect(encoded).toMatch(EXT_VALUE);
    expect(decodeURIComponent(encoded)).toBe(name);
    // Safe to put in a header: no control characters and nothing beyond Latin-1.
    // eslint-disable-next-line no-control-regex -- checking for control characters is the point
    expect(value).not.toMatch(/[\u0000-\u001f\u007f-\uffff]/);
  });
});
