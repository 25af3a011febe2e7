// Preloaded into the API and worker when BENCH_PROFILE is set (`node -r`): records a CPU
// profile from start-up and writes it when the benchmark sends SIGUSR2, before it stops the
// process. (--cpu-prof alone writes nothing: the apps end on a re-raised SIGTERM.)
'use strict';

const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));

process.on('SIGUSR2', () => {
  session.post('Profiler.stop', (error, result) => {
    if (error) return console.error(`cpu profile: ${error.message}`);
    const file = join(process.env.BENCH_PROFILE, `${process.env.BENCH_PROCESS_NAME || 'process'}-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(result.profile));
    console.error(`cpu profile written to ${file}`);
  });
});
