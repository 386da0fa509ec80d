'use strict';
// tests/peers/peer.js — what the protocol peers of the test suites share:
// the command line, the port file, the NDJSON logs, the fault queue and its
// control endpoints (POST/DELETE /_fault, GET /_stats), request bodies, and a
// clean stop on SIGTERM.  No npm dependencies.
//
// Every peer listens on 127.0.0.1 only, on a port the kernel chooses, and
// writes that port to --port-file when it is ready to answer (the file is
// renamed into place, so a reader never sees half a number).  Log lines are
// appended synchronously before the response that reports them is sent: once
// a client has its answer, the log already says what was accepted.

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

// --- command line ----------------------------------------------------------

// spec: { name: { arg: true|false, multi: bool, required: bool, def: value } }
// Returns { name: value } with "--foo-bar" stored as fooBar.  Unknown options,
// missing values and missing required options end the process with status 2
// and the usage text on stderr.
function parseArgs(prog, usage, spec, argv) {
	const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
	const out = {};
	for (const [name, s] of Object.entries(spec)) {
		if (s.multi) out[camel(name)] = [];
		else if ('def' in s) out[camel(name)] = s.def;
	}
	const die = (msg) => {
		process.stderr.write(`${prog}: ${msg}\nusage: ${usage}\n`);
		process.exit(2);
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '-h' || a === '--help') {
			process.stdout.write(`usage: ${usage}\n`);
			process.exit(0);
		}
		let name, val;
		const eq = a.indexOf('=');
		if (a.startsWith('--') && eq > 0) {
			name = a.slice(2, eq);
			val = a.slice(eq + 1);
		} else if (a.startsWith('--')) {
			name = a.slice(2);
		} else {
			die(`unexpected argument ${JSON.stringify(a)}`);
		}
		const s = spec[name];
		if (!s) die(`unknown option --${name}`);
		if (s.arg) {
			if (val === undefined) {
				if (i + 1 >= argv.length) die(`--${name} needs a value`);
				val = argv[++i];
			}
			if (s.parse) {
				const v = s.parse(val);
				if (v === undefined) die(`--${name}: bad value ${JSON.stringify(val)}`);
				val = v;
			}
		} else {
			if (val !== undefined) die(`--${name} takes no value`);
			val = true;
		}
		if (s.multi) out[camel(name)].push(val);
		else if (camel(name) in out && !('def' in s)) die(`--${name} given twice`);
		else out[camel(name)] = val;
	}
	for (const [name, s] of Object.entries(spec)) {
		if (s.required && out[camel(name)] === undefined) die(`--${name} is required`);
	}
	return out;
}

// Non-negative integer option values.
function uint(v) {
	return /^[0-9]+$/.test(v) ? Number(v) : undefined;
}

// --- logs ---------------------------------------------------------------------

// An NDJSON file opened for appending, or a sink when no file was given.
class Log {
	constructor(file) {
		this.fd = file ? fs.openSync(file, 'a') : -1;
	}
	write(obj) {
		if (this.fd >= 0) fs.writeSync(this.fd, JSON.stringify(obj) + '\n');
	}
}

function writePortFile(file, port) {
	const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}`);
	fs.writeFileSync(tmp, `${port}\n`);
	fs.renameSync(tmp, file);
}

// --- faults -------------------------------------------------------------------

// A queue of faults injected by POST /_fault.  Each request takes at most one
// fault: the oldest pending one whose kind the caller asks for and whose
// "match" (a substring of "METHOD /path?query") fits the request.  count is
// how many requests it still applies to; -1 = every request until cleared.
class Faults {
	// kinds: { kind: { defaultCount, check(spec) -> error string or null } }
	constructor(kinds) {
		this.kinds = kinds;
		this.pending = [];
		this.fired = {};
		this.nextId = 1;
	}

	add(spec) {
		if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
			return 'a fault is a JSON object';
		const k = this.kinds[spec.kind];
		if (!k) return `unknown fault kind ${JSON.stringify(spec.kind)} (known: ${Object.keys(this.kinds).join(', ')})`;
		if ('count' in spec && spec.count !== null &&
		    !(Number.isInteger(spec.count) && (spec.count > 0 || spec.count === -1)))
			return 'count must be a positive integer or -1 (every request)';
		if ('match' in spec && typeof spec.match !== 'string') return 'match must be a string';
		const err = k.check ? k.check(spec) : null;
		if (err) return err;
		const f = Object.assign({}, spec);
		if (f.count === undefined || f.count === null) f.count = k.defaultCount;
		f.id = this.nextId++;
		this.pending.push(f);
		return null;
	}

	clear() {
		this.pending = [];
	}

	// The first pending fault of one of the kinds for this request, taken
	// (its count lowered), or null.  pred(f) may refuse a fault.
	take(kinds, req, pred) {
		const what = `${req.method} ${req.url}`;
		for (let i = 0; i < this.pending.length; i++) {
			const f = this.pending[i];
			if (!kinds.includes(f.kind)) continue;
			if (f.match !== undefined && !what.includes(f.match)) continue;
			if (pred && !pred(f)) continue;
			if (f.count > 0 && --f.count === 0) this.pending.splice(i, 1);
			this.fired[f.kind] = (this.fired[f.kind] || 0) + 1;
			return f;
		}
		return null;
	}
}

function checkStatus(spec, lo = 400) {
	if (!Number.isInteger(spec.status) || spec.status < lo || spec.status > 599)
		return `status must be an integer from ${lo} to 599`;
	return null;
}

function checkMs(spec) {
	if (!Number.isInteger(spec.ms) || spec.ms < 0 || spec.ms > 600000)
		return 'ms must be an integer from 0 to 600000';
	return null;
}

function checkReset(spec) {
	if ('when' in spec && spec.when !== 'body' && spec.when !== 'response')
		return 'when must be "body" (before the body is read: nothing accepted) or "response" (after it was accepted)';
	return null;
}

// --- requests -------------------------------------------------------------------

// The whole body, or an error { status, why } past max bytes.
function readBody(req, max) {
	return new Promise((resolve) => {
		const parts = [];
		let n = 0;
		let over = false;
		req.on('data', (c) => {
			n += c.length;
			if (n > max) over = true;
			else parts.push(c);
		});
		req.on('end', () => resolve(over ? { tooLarge: true, length: n } : { body: Buffer.concat(parts) }));
		req.on('error', () => resolve({ aborted: true }));
		req.on('aborted', () => resolve({ aborted: true }));
	});
}

// Content-Encoding: absent/identity -> the body; gzip -> inflated (at most
// max bytes); anything else or a broken gzip stream -> { error }.
function decodeBody(req, body, max) {
	const enc = (req.headers['content-encoding'] || '').trim().toLowerCase();
	if (enc === '' || enc === 'identity') return { body, encoding: null };
	if (enc !== 'gzip') return { error: `unsupported Content-Encoding ${JSON.stringify(enc)}`, encoding: enc };
	try {
		return { body: zlib.gunzipSync(body, { maxOutputLength: max }), encoding: 'gzip' };
	} catch (e) {
		if (e.code === 'ERR_BUFFER_TOO_LARGE') return { tooLarge: true, encoding: 'gzip' };
		return { error: `bad gzip body: ${e.message}`, encoding: 'gzip' };
	}
}

function sendJson(res, status, obj, extraHeaders) {
	const body = Buffer.from(JSON.stringify(obj));
	res.writeHead(status, Object.assign({
		'Content-Type': 'application/json',
		'Content-Length': body.length,
	}, extraHeaders || {}));
	res.end(body);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- control endpoints ------------------------------------------------------------

// Answers POST /_fault (JSON fault -> 200 {"ok":true,"id":n} or 400
// {"ok":false,"error":...}), DELETE /_fault (clear), GET /_fault (pending) and
// GET /_stats (stats()).  true when the request was one of these.
async function control(req, res, faults, stats) {
	const p = req.url.split('?')[0];
	if (p !== '/_fault' && p !== '/_stats') return false;
	if (p === '/_stats' && req.method === 'GET') {
		sendJson(res, 200, stats());
	} else if (p === '/_fault' && req.method === 'GET') {
		sendJson(res, 200, { pending: faults.pending });
	} else if (p === '/_fault' && req.method === 'DELETE') {
		faults.clear();
		sendJson(res, 200, { ok: true });
	} else if (p === '/_fault' && req.method === 'POST') {
		const r = await readBody(req, 65536);
		let spec;
		try {
			spec = JSON.parse(r.body ? r.body.toString('utf8') : '');
		} catch (e) {
			sendJson(res, 400, { ok: false, error: `not JSON: ${e.message}` });
			return true;
		}
		const err = faults.add(spec);
		if (err) sendJson(res, 400, { ok: false, error: err });
		else sendJson(res, 200, { ok: true, id: faults.pending[faults.pending.length - 1].id });
	} else {
		sendJson(res, 405, { ok: false, error: `${req.method} not allowed on ${p}` });
	}
	return true;
}

// --- lifetime ---------------------------------------------------------------------

// Listen on 127.0.0.1:0, track sockets (so a stop does not wait for idle
// keep-alive connections), write the port file, stop on SIGTERM/SIGINT.
function serve(server, portFile, onStop) {
	const sockets = new Set();
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	let stopping = false;
	const stop = async () => {
		if (stopping) return;
		stopping = true;
		server.close();
		for (const s of sockets) s.destroy();
		if (onStop) await onStop();
		process.exit(0);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const port = server.address().port;
			if (portFile) writePortFile(portFile, port);
			resolve(port);
		});
	});
}

// Uncaught errors are peer bugs: say so and exit 3 (the test helper reports it).
function dieOnBugs(prog) {
	const bug = (e) => {
		process.stderr.write(`${prog}: internal error: ${e && e.stack ? e.stack : e}\n`);
		process.exit(3);
	};
	process.on('uncaughtException', bug);
	process.on('unhandledRejection', bug);
}

module.exports = {
	parseArgs, uint, Log, writePortFile, Faults, checkStatus, checkMs, checkReset,
	readBody, decodeBody, sendJson, sleep, control, serve, dieOnBugs,
};
