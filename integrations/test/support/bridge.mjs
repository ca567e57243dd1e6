// Runs inside the no-network jail as its PID 1: for each PORT=SOCKET argument it listens on
// 127.0.0.1:PORT and pipes every connection to the Unix socket SOCKET, which the test serves from
// outside the jail (a path-named Unix socket crosses network namespaces; TCP does not). Then it runs
// the command after "--" and exits with its status, which ends the jail and everything left in it.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import process from 'node:process';

const separator = process.argv.indexOf('--');
if (separator < 0) throw new Error('usage: bridge.mjs PORT=SOCKET... -- COMMAND [ARGS...]');
const pairs = process.argv.slice(2, separator).map((pair) => {
  const at = pair.indexOf('=');
  return { port: Number(pair.slice(0, at)), socket: pair.slice(at + 1) };
});
const [command, ...args] = process.argv.slice(separator + 1);

function listen({ port, socket }) {
  return new Promise((resolve, reject) => {
    const server = createServer((inside) => {
      const outside = connect(socket);
      inside.pipe(outside).pipe(inside);
      inside.on('error', () => outside.destroy());
      outside.on('error', () => inside.destroy());
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

await Promise.all(pairs.map(listen));
const child = spawn(command, args, { stdio: 'inherit' });
child.once('error', (err) => {
  process.stderr.write(`bridge: cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
