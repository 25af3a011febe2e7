/** The CLI's exit codes; 130 is the shell's own for a process ended by Ctrl-C (128 + SIGINT). */
export const EXIT = { done: 0, failed: 1, usage: 2, interrupted: 130 } as const;
