'use strict';
// One Debug Adapter Protocol session against hvgdb, as VS Code runs it with the "gdbtarget"
// debug type: cdt-gdb-adapter (which drives gdb over GDB/MI) under
// @vscode/debugadapter-testsupport's DebugClient, on the hello64 sample.  Every answer's fields
// are checked (frame names and lines, variables, registers as hex, memory against the symbol's
// contents); a failed check ends the process with code 1.
//
// DAP_MODE=attach: hvgdb runs already (run_e2e.sh started it, with E2E_DRIVER=node); the adapter
//   connects gdb to E2E_PORT.  Expectations of hvgdb's exit code and serial output go to
//   E2E_STATE for run_e2e.sh to check once hvgdb has exited (see tests/e2e/e2e.py).
// DAP_MODE=launch: the adapter starts hvgdb itself (E2E_HVGDB on E2E_IMAGE), finds its port in
//   hvgdb's "listening on" line and shows hvgdb's output (the guest's serial console) as
//   "server" output events; the session checks those and hvgdb's exit code there.
// Both: DAP_SOURCE is hello64.c, whose "E2E:" markers give the lines to check; NODE_PATH finds
// the packages that run_dap.sh installed.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const env = process.env;
const MODE = env.DAP_MODE || 'attach';
const ELF = env.E2E_SYMBOLS || env.E2E_IMAGE;
const SOURCE = env.DAP_SOURCE;
const TIMEOUT_MS = 20000;
// What cdt-gdb-adapter itself says in the "server" output category (GDBTargetDebugSession).
const ADAPTER_LINE = new RegExp('^(gdb exited|gdb connection lost|gdbserver stopped|' +
  'gdb exited with code \\S+|gdbserver exited with code \\S+|gdbserver killed by signal \\S+)\\n$');
const EXIT_CODE = 43; // hello64 unchanged: ((10 + 11) << 1) | 1
const HEX = /^0x[0-9a-f]+$/;
// The frames below each function the session stops in, innermost first.
const CALLERS = { add: ['kmain', '_start'], kmain: ['_start'], tick: ['kmain', '_start'] };

function log(text) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function show(value) {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}

function checkEqual(actual, expected, what) {
  assert.deepStrictEqual(actual, expected, what);
  log(`ok: ${what} == ${show(actual)}`);
}

// Line of the comment "E2E: marker" in hello64.c.
function markerLine(marker) {
  const lines = fs.readFileSync(SOURCE, 'utf8').split('\n');
  const index = lines.findIndex((line) => new RegExp(`E2E: ${marker}\\b`).test(line));
  assert.ok(index >= 0, `marker 'E2E: ${marker}' not in ${SOURCE}`);
  return index + 1;
}

// An address at the start of gdb's value text ("0x101030 <origin>", "0x100335 \"origin\"").
function leadingAddress(text) {
  const m = /^0x[0-9a-f]+/.exec(text);
  assert.ok(m, `no address in ${JSON.stringify(text)}`);
  return BigInt(m[0]);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Expectations for run_e2e.sh (attach mode): "exit N", "serial TEXT", "pass 1".
function expect(line) {
  fs.appendFileSync(env.E2E_STATE, `${line}\n`);
}

class Session {
  constructor(dc) {
    this.dc = dc;
    this.server = ''; // hvgdb's output, in launch mode
    this.adapter = ''; // the adapter's own lines about gdb and hvgdb, in the same category
    dc.on('output', (event) => {
      const { category, output } = event.body;
      if (category === 'server') {
        // The adapter sends each of its lines as one event, while hvgdb's console output
        // arrives in pieces as the guest writes it; kept apart, an adapter line that comes in
        // the middle of a guest line cannot split it.
        if (ADAPTER_LINE.test(output)) this.adapter += output;
        else this.server += output;
      }
      log(`[${category}] ${output.trimEnd()}`);
    });
  }

  serial() {
    return MODE === 'launch' ? this.server : fs.readFileSync(env.E2E_SERIAL, 'latin1');
  }

  async waitForSerial(text) {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!this.serial().includes(text)) {
      assert.ok(Date.now() < deadline, `no ${JSON.stringify(text)} in the serial output`);
      await delay(50);
    }
    log(`ok: serial output contains ${JSON.stringify(text)}`);
  }

  // Sends a request that resumes the guest and returns the body of the next stopped event.
  async resume(request, args, what) {
    const stopped = this.dc.waitForEvent('stopped', TIMEOUT_MS);
    await this.dc[request](args);
    const body = (await stopped).body;
    log(`stopped after ${request}: ${show(body)}`);
    checkEqual(body.threadId, this.threadId, `thread of the stop after ${what}`);
    return body;
  }

  async frames(names, what) {
    const trace = await this.dc.stackTraceRequest({ threadId: this.threadId });
    const frames = trace.body.stackFrames;
    checkEqual(frames.map((f) => f.name), names, `frames ${what}`);
    for (const frame of frames) {
      assert.match(frame.instructionPointerReference, HEX, `pc of frame ${frame.name}`);
    }
    return frames;
  }

  async top(name, line, what) {
    const frames = await this.frames([name, ...CALLERS[name]], what);
    checkEqual([frames[0].name, frames[0].line], [name, line], `function and line ${what}`);
    checkEqual(frames[0].source.path, SOURCE, `source file ${what}`);
    return frames[0];
  }

  async variables(reference) {
    const body = (await this.dc.variablesRequest({ variablesReference: reference })).body;
    return Object.fromEntries(body.variables.map((v) => [v.name, v.value]));
  }

  async evaluate(expression, frameId) {
    const body = (await this.dc.evaluateRequest({ expression, frameId, context: 'watch' })).body;
    log(`evaluate ${expression}: ${show(body)}`);
    return body.result;
  }
}

function configuration() {
  if (MODE === 'launch') {
    return {
      program: ELF,
      target: {
        server: env.E2E_HVGDB,
        serverParameters: ['--gdb', '127.0.0.1:0', ELF],
        serverPortRegExp: 'hvgdb: listening on 127\\.0\\.0\\.1:([0-9]+)',
        host: '127.0.0.1',
        // Users get the adapter's 1 s default; a loaded test machine gets more, so the exit
        // code checked below is hvgdb's own and not the adapter's kill.
        serverDisconnectTimeout: 10000,
      },
    };
  }
  return { program: ELF, target: { type: 'remote', parameters: [`127.0.0.1:${env.E2E_PORT}`] } };
}

async function run(s) {
  const { dc } = s;
  const caps = (await dc.initializeRequest({
    adapterID: 'gdbtarget', clientID: 'hvgdb-tests', linesStartAt1: true, columnsStartAt1: true,
    pathFormat: 'path', supportsMemoryReferences: true,
  })).body;
  for (const cap of ['supportsConfigurationDoneRequest', 'supportsFunctionBreakpoints',
    'supportsReadMemoryRequest']) {
    checkEqual(caps[cap], true, cap);
  }
  const initialized = dc.waitForEvent('initialized', TIMEOUT_MS);
  await (MODE === 'launch' ? dc.launchRequest(configuration()) : dc.attachRequest(configuration()));
  await initialized;

  // Breakpoints while configuring: a function's, and one by source line.
  const fbps = (await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add' }] })).body;
  checkEqual(fbps.breakpoints.map((b) => b.verified), [true], 'function breakpoint on add');
  const tickLine = markerLine('tick-body');
  const bps = (await dc.setBreakpointsRequest({
    source: { path: SOURCE }, breakpoints: [{ line: tickLine }],
  })).body;
  checkEqual(bps.breakpoints.map((b) => [b.verified, b.line]), [[true, tickLine]],
    'breakpoint at hello64.c, tick-body');

  const stopped = dc.waitForEvent('stopped', TIMEOUT_MS);
  await dc.configurationDoneRequest();
  const first = (await stopped).body;
  checkEqual(first.reason, 'function breakpoint', 'reason of the first stop');
  s.threadId = first.threadId;
  const threads = (await dc.threadsRequest()).body.threads;
  checkEqual(threads.map((t) => t.id), [s.threadId], 'threads');

  let frame = await s.top('add', markerLine('add-body'), 'at add');
  const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  checkEqual(scopes.map((scope) => scope.name), ['Local', 'Registers'], 'scopes');
  const locals = await s.variables(scopes[0].variablesReference);
  checkEqual(Object.keys(locals), ['a', 'b', 'sum'], 'variables in add');
  checkEqual([locals.a, locals.b], ['2', '3'], 'a and b');
  const registers = await s.variables(scopes[1].variablesReference);
  for (const name of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r15', 'rip',
    'eflags', 'cs', 'ss']) {
    assert.match(registers[name] ?? '', HEX, `register ${name}`);
  }
  checkEqual(BigInt(registers.rip), BigInt(frame.instructionPointerReference), 'rip at add');

  checkEqual((await s.resume('nextRequest', { threadId: s.threadId }, 'next')).reason, 'step',
    'reason after next');
  frame = await s.top('add', markerLine('add-body') + 1, 'after next');
  checkEqual(await s.evaluate('a * 10 + b', frame.id), '23', 'a * 10 + b');
  checkEqual(await s.evaluate('sum', frame.id), '5', 'sum');

  // readMemory: origin is {3, 4, "origin"}.
  const origin = leadingAddress(await s.evaluate('&origin', frame.id));
  const label = leadingAddress(await s.evaluate('origin.label', frame.id));
  const memory = (await dc.customRequest('readMemory', { memoryReference: '&origin', count: 16 }))
    .body;
  checkEqual(BigInt(memory.address), origin, 'address readMemory read');
  const expected = Buffer.alloc(16);
  expected.writeInt32LE(3, 0);
  expected.writeInt32LE(4, 4);
  expected.writeBigUInt64LE(label, 8);
  checkEqual(Buffer.from(memory.data, 'base64').toString('hex'), expected.toString('hex'),
    'origin read with readMemory');

  await s.resume('stepOutRequest', { threadId: s.threadId }, 'stepOut');
  await s.top('kmain', markerLine('call-add'), 'after stepOut');
  await s.resume('nextRequest', { threadId: s.threadId }, 'next');
  await s.top('kmain', markerLine('call-add') + 1, 'after next in kmain');
  await s.resume('stepInRequest', { threadId: s.threadId }, 'stepIn');
  await s.frames(['print_result', 'kmain', '_start'], 'after stepIn');

  // continue to the breakpoint by source line.
  checkEqual((await s.resume('continueRequest', { threadId: s.threadId }, 'continue')).reason,
    'breakpoint', 'reason of the stop at tick');
  frame = await s.top('tick', tickLine, 'at the breakpoint in tick');
  const tickScopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  checkEqual((await s.variables(tickScopes[0].variablesReference)).i, '0', 'i in tick');

  // pause: the guest spins in wait_for_debugger() while hold_at_end is set.
  await s.evaluate('hold_at_end = 1', frame.id);
  await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
  await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
  await dc.continueRequest({ threadId: s.threadId });
  await s.waitForSerial('counter = 10');
  await delay(300);
  const paused = await s.resume('pauseRequest', { threadId: s.threadId }, 'pause');
  checkEqual(paused.reason, 'SIGINT', 'reason of the stop after pause'); // gdb's interrupt
  frame = (await s.frames(['wait_for_debugger', 'kmain', '_start'], 'after pause'))[0];
  checkEqual(await s.evaluate('counter', frame.id), '10', 'counter after pause');

  // VS Code's stop button: terminate, then disconnect, for a launch; disconnect for an attach.
  // Either way the adapter has gdb drop the connection and the guest runs on to its exit.
  await s.evaluate('hold_at_end = 0', frame.id);
  if (MODE === 'launch') {
    // The adapter waits for hvgdb to exit (target.serverDisconnectTimeout) before it would
    // kill it.
    const terminated = dc.waitForEvent('terminated', TIMEOUT_MS);
    await dc.terminateRequest({});
    await terminated;
    await dc.disconnectRequest({});
    await s.waitForSerial('exit value = 21');
    checkEqual(/gdbserver exited with code (\d+)/.exec(s.adapter)?.[1], String(EXIT_CODE),
      "hvgdb's exit code");
  } else {
    await dc.disconnectRequest({});
    expect(`exit ${EXIT_CODE}`);
    for (const line of ['hello from hello64', 'add(2, 3) = 5', 'counter = 10', 'exit value = 21']) {
      expect(`serial ${line}`);
    }
    expect(`pass ${env.E2E_PHASE || 1}`);
  }
}

async function main() {
  log(`dap: ${MODE} with cdt-gdb-adapter on ${path.basename(ELF)}, node ${process.version}`);
  const adapter = require.resolve('cdt-gdb-adapter/dist/debugTargetAdapter.js');
  const dc = new DebugClient(process.execPath, adapter, 'gdbtarget', undefined, true);
  dc.defaultTimeout = TIMEOUT_MS;
  await dc.start();
  try {
    await run(new Session(dc));
  } finally {
    await dc.stop();
  }
  log(`dap: ${MODE} passed`);
}

main().catch((error) => {
  log(`FAILED: ${error.stack || error}`);
  process.exit(1);
});
