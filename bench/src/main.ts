/** `npm run bench` (node bench/dist/main.js): the cross-backend suite; `--help` lists the options. */
import { runBenchCli } from './cli.js';

process.exitCode = await runBenchCli(process.argv.slice(2));
