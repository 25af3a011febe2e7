#!/usr/bin/env node
import { HELP, parseCommandLine, USAGE, UsageError } from './args';
import { EXIT } from './exit-codes';
import { Output } from './reporters';
import { runSessionCommand } from './session-commands';
import { runUpload } from './upload-command';

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, output: Output, signal: AbortSignal): Promise<number> {
  try {
    const command = parseCommandLine(argv, env);
    if (command.name === 'help') {
      output.stdout.write(`${HELP}\n`);
      return EXIT.done;
    }
    if (command.name === 'upload') return await runUpload(command, env, output, signal);
    return await runSessionCommand(command, output, signal);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.stderr.write(`resumable-upload: ${error.message}\n\n${USAGE}\n\nRun \`resumable-upload --help\` for the options.\n`);
    return EXIT.usage;
  }
}

/** Ctrl-C aborts the work in hand, so the upload stops cleanly and can be resumed; a second one quits at once. */
function abortOnInterrupt(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort(new Error('interrupted'));
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  return controller.signal;
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr }, abortOnInterrupt()).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`resumable-upload: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
