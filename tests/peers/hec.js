#!/usr/bin/env node
'use strict';
// tests/peers/hec.js — a strict Splunk HTTP Event Collector for the tests.
//
//   node tests/peers/hec.js --port-file F [--log F] [--requests F]
//        [--token T]... [--disabled-token T]... [--ack] [--ack-delay MS]
//        [--indexes a,b] [--max-body BYTES] [--on-invalid reject|prefix]
//        [--raw-channel-optional]
//
// Endpoints: /services/collector, /services/collector/event(/1.0) (JSON event
// objects, one after another in a body), /services/collector/raw(/1.0) (lines),
// /services/collector/ack (indexer acknowledgement), /services/collector/health.
// Bodies may be gzip (Content-Encoding: gzip).  Answers carry Splunk's
// {"text","code"} with Splunk's HTTP status for each code, and
// "invalid-event-number" when one event of a batch is at fault.
//
// --log: one line per accepted event, written before the answer is sent:
//   {"event":..,"time":..,"host":..,"source":..,"sourcetype":..,"index":..,
//    "fields":..,"channel":..,"request":n,"endpoint":"event"|"raw",
//    "ackId":n|null,"unknown":[keys Splunk would ignore],"faulted":bool}
// (metadata absent from the event is null; "faulted" marks events accepted by
// a request that a "slow", "reset" (when "response") or "ackNever" fault hit:
// the client may well send them again.)
// --requests: one line per request (control endpoints excepted):
//   {"request":n,"method","path","query","status","code","text","detail",
//    "events","bytes","encoding","channel","ackId","fault"}
// (status null: the connection was reset; detail: why a request was refused.)
//
// Faults (POST /_fault, JSON): {"kind":"status","status":503,"hecCode":9,
// "count":1} answers that status and code without accepting anything;
// {"kind":"slow","ms":M} accepts, then waits M ms before answering;
// {"kind":"reset"} closes the connection once the request line and headers
// are in (nothing accepted), {"kind":"reset","when":"response"} after the
// events were accepted; {"kind":"ackNever"} the acks of requests accepted from
// now on never turn true (count defaults to every request; others to 1).
// "match":"substring of METHOD /path?query" narrows a fault; without it, a
// fault applies to event and raw requests only.  DELETE /_fault clears them,
// GET /_stats counts.

const http = require('http');
const { TextDecoder } = require('util');
const P = require('./peer');

const PROG = 'hec.js';
P.dieOnBugs(PROG);

const USAGE = 'node hec.js --port-file F [--log F] [--requests F] [--token T]... ' +
	'[--disabled-token T]... [--ack] [--ack-delay MS] [--indexes a,b] [--max-body BYTES] ' +
	'[--on-invalid reject|prefix] [--raw-channel-optional]';
const opt = P.parseArgs(PROG, USAGE, {
	'port-file': { arg: true, required: true },
	log: { arg: true },
	requests: { arg: true },
	token: { arg: true, multi: true },
	'disabled-token': { arg: true, multi: true },
	ack: {},
	'ack-delay': { arg: true, parse: P.uint, def: 0 },
	indexes: { arg: true },
	'max-body': { arg: true, parse: P.uint, def: 838860800 },
	'on-invalid': { arg: true, parse: (v) => (v === 'reject' || v === 'prefix' ? v : undefined), def: 'reject' },
	'raw-channel-optional': {},
}, process.argv.slice(2));

const DEFAULT_TOKEN = '00000000-0000-0000-0000-000000000000';
const tokens = opt.token.length ? opt.token : [DEFAULT_TOKEN];
const indexes = opt.indexes ? opt.indexes.split(',').filter((s) => s) : null;

// Splunk's documented status codes and the HTTP status each comes with.
const CODES = {
	0: [200, 'Success'],
	1: [403, 'Token disabled'],
	2: [401, 'Token is required'],
	3: [401, 'Invalid authorization'],
	4: [403, 'Invalid token'],
	5: [400, 'No data'],
	6: [400, 'Invalid data format'],
	7: [400, 'Incorrect index'],
	8: [500, 'Internal server error'],
	9: [503, 'Server is busy'],
	10: [400, 'Data channel is missing'],
	11: [400, 'Invalid data channel'],
	12: [400, 'Event field is required'],
	13: [400, 'Event field cannot be blank'],
	14: [400, 'ACK is disabled'],
	15: [400, 'Error in handling indexed fields'],
	16: [400, 'Query string authorization is not enabled'],
	17: [200, 'HEC is healthy'],
	18: [503, 'HEC is unhealthy, queues are full'],
	19: [503, 'HEC is unhealthy, ack service unavailable'],
	20: [503, 'HEC is unhealthy, queues are full, ack service unavailable'],
};

const faults = new P.Faults({
	status: {
		defaultCount: 1,
		check: (f) => P.checkStatus(f) ||
			('hecCode' in f && !(Number.isInteger(f.hecCode) && f.hecCode >= 0) ? 'hecCode must be a non-negative integer' : null),
	},
	slow: { defaultCount: 1, check: P.checkMs },
	reset: { defaultCount: 1, check: P.checkReset },
	ackNever: { defaultCount: -1 },
});

const log = new P.Log(opt.log);
const reqlog = new P.Log(opt.requests);
const stats = { requests: 0, accepted: 0, byStatus: {}, byCode: {} };

// channel -> { next: ackId, acks: Map(ackId -> { readyAt, never }) }
const channels = new Map();

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const ROUTES = {
	'/services/collector': 'event',
	'/services/collector/event': 'event',
	'/services/collector/event/1.0': 'event',
	'/services/collector/raw': 'raw',
	'/services/collector/raw/1.0': 'raw',
	'/services/collector/ack': 'ack',
	'/services/collector/health': 'health',
	'/services/collector/health/1.0': 'health',
};

// The JSON values of a body of concatenated objects ({..}{..} with any
// whitespace between), or { bad: i } for the first one that is not an object
// or not JSON.
function splitEvents(s) {
	const out = [];
	let i = 0;
	const n = s.length;
	for (;;) {
		while (i < n && /\s/.test(s[i])) i++;
		if (i >= n) return { events: out };
		if (s[i] !== '{') return { events: out, bad: out.length };
		const start = i;
		let depth = 0;
		let inStr = false;
		for (; i < n; i++) {
			const c = s[i];
			if (inStr) {
				if (c === '\\') i++;
				else if (c === '"') inStr = false;
			} else if (c === '"') {
				inStr = true;
			} else if (c === '{' || c === '[') {
				depth++;
			} else if (c === '}' || c === ']') {
				if (--depth === 0) {
					i++;
					break;
				}
			}
		}
		if (depth !== 0) return { events: out, bad: out.length };
		try {
			out.push(JSON.parse(s.slice(start, i)));
		} catch (e) {
			return { events: out, bad: out.length };
		}
	}
}

const KNOWN = new Set(['event', 'time', 'host', 'source', 'sourcetype', 'index', 'fields']);

// null when an event object is acceptable, else [Splunk code, why].
function checkEvent(e) {
	if (!('event' in e)) return [12, 'no "event" field'];
	if (e.event === null || e.event === '') return [13, '"event" is null or ""'];
	if ('time' in e) {
		const t = e.time;
		const ok = (typeof t === 'number' && Number.isFinite(t) && t >= 0) ||
			(typeof t === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(t));
		if (!ok) return [6, '"time" is not epoch seconds'];
	}
	for (const k of ['host', 'source', 'sourcetype', 'index'])
		if (k in e && typeof e[k] !== 'string') return [6, `"${k}" is not a string`];
	if ('index' in e && indexes && !indexes.includes(e.index))
		return [7, `index ${JSON.stringify(e.index)} is not one of --indexes`];
	if ('fields' in e) {
		const f = e.fields;
		if (f === null || typeof f !== 'object' || Array.isArray(f)) return [15, '"fields" is not an object'];
		for (const [k, v] of Object.entries(f)) {
			const flat = (x) => typeof x === 'string' || typeof x === 'number';
			if (!(flat(v) || (Array.isArray(v) && v.every(flat))))
				return [15, `field ${JSON.stringify(k)} is neither a string, a number nor an array of them`];
		}
	}
	return null;
}

function newAck(channel, fault) {
	let c = channels.get(channel);
	if (!c) {
		c = { next: 0, acks: new Map() };
		channels.set(channel, c);
	}
	const id = c.next++;
	c.acks.set(id, { readyAt: Date.now() + opt.ackDelay, never: !!fault });
	return id;
}

async function handle(req, res) {
	if (await P.control(req, res, faults, () => ({
		...stats,
		faultsFired: faults.fired,
		pendingFaults: faults.pending,
		acksPending: [...channels.values()].reduce((n, c) => n + c.acks.size, 0),
	}))) return;

	const n = ++stats.requests;
	const u = new URL(req.url, 'http://peer');
	const route = ROUTES[u.pathname];
	const data = route === 'event' || route === 'raw';
	const rec = {
		request: n, method: req.method, path: u.pathname, query: u.search.slice(1),
		status: null, code: null, text: null, detail: null, events: 0, bytes: 0,
		encoding: null, channel: null, ackId: null, fault: null,
	};
	const fault = faults.take(['status', 'slow', 'reset'], req,
		(f) => data || f.match !== undefined);
	if (fault) rec.fault = fault.kind;

	const answer = (status, obj, extra) => {
		rec.status = status;
		if (obj && typeof obj.code === 'number') {
			rec.code = obj.code;
			rec.text = obj.text;
			stats.byCode[obj.code] = (stats.byCode[obj.code] || 0) + 1;
		}
		stats.byStatus[status] = (stats.byStatus[status] || 0) + 1;
		reqlog.write(rec);
		P.sendJson(res, status, obj, extra);
	};
	const refuse = (code, detail, extra) => {
		rec.detail = detail || null;
		const [status, text] = CODES[code];
		answer(status, Object.assign({ text, code }, extra || {}));
	};

	if (fault && fault.kind === 'reset' && fault.when !== 'response') {
		reqlog.write(rec);
		req.socket.destroy();
		return;
	}

	const cl = Number(req.headers['content-length']);
	if (Number.isFinite(cl) && cl > opt.maxBody) {
		// Refused from the header, before the body is read.
		rec.status = 413;
		rec.detail = `Content-Length ${cl} is over --max-body ${opt.maxBody}`;
		reqlog.write(rec);
		res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' });
		res.end(`Content-Length of ${cl} too large (maximum is ${opt.maxBody})`);
		req.resume();
		return;
	}
	const r = await P.readBody(req, opt.maxBody);
	if (r.aborted) {
		rec.detail = 'the client went away before the body was in';
		reqlog.write(rec);
		return;
	}
	if (r.tooLarge) {
		rec.status = 413;
		rec.detail = `a body of ${r.length} bytes is over --max-body ${opt.maxBody}`;
		reqlog.write(rec);
		res.writeHead(413, { 'Content-Type': 'text/plain' });
		res.end(`Content-Length of ${r.length} too large (maximum is ${opt.maxBody})`);
		return;
	}
	rec.bytes = r.body.length;

	if (fault && fault.kind === 'status') {
		let code = fault.hecCode;
		if (code === undefined) code = { 500: 8, 503: 9, 401: 3, 403: 4 }[fault.status];
		const text = (code !== undefined && CODES[code]) ? CODES[code][1] : `fault ${fault.status}`;
		answer(fault.status, code === undefined ? { text } : { text, code });
		return;
	}

	if (!route) {
		answer(404, { text: 'The requested URL was not found on this server.', code: 404 });
		return;
	}
	if (route === 'health') {
		if (req.method !== 'GET') answer(405, { text: 'Method Not Allowed', code: 405 });
		else refuse(17);
		return;
	}
	if (req.method !== 'POST') {
		answer(405, { text: 'Method Not Allowed', code: 405 });
		return;
	}

	// Token: only "Authorization: Splunk <token>".
	const auth = req.headers.authorization;
	if (auth === undefined) {
		refuse(u.searchParams.has('token') ? 16 : 2, 'no Authorization header');
		return;
	}
	const m = /^Splunk ([^\s]+)$/.exec(auth.trim());
	if (!m) {
		refuse(3, 'Authorization is not "Splunk <token>"');
		return;
	}
	if (opt.disabledToken.includes(m[1])) {
		refuse(1, 'the token is disabled (--disabled-token)');
		return;
	}
	if (!tokens.includes(m[1])) {
		refuse(4, 'unknown token');
		return;
	}

	// Channel: the header, else ?channel=.
	const hdrChan = req.headers['x-splunk-request-channel'];
	const channel = hdrChan !== undefined ? hdrChan : u.searchParams.get('channel');
	rec.channel = channel;
	if (route === 'ack' && !opt.ack) {
		refuse(14, 'acks are not enabled (no --ack)');
		return;
	}
	const needChannel = opt.ack || (route === 'raw' && !opt.rawChannelOptional);
	if (channel === null || channel === '') {
		if (needChannel) {
			refuse(10, route === 'raw' && !opt.ack ? 'the raw endpoint needs a channel' : 'acks are enabled: a channel is required');
			return;
		}
	} else if (!GUID.test(channel)) {
		refuse(11, 'the channel is not a GUID');
		return;
	}

	const d = P.decodeBody(req, r.body, opt.maxBody);
	rec.encoding = d.encoding;
	if (d.tooLarge) {
		rec.status = 413;
		rec.detail = `the body inflates past --max-body ${opt.maxBody}`;
		reqlog.write(rec);
		res.writeHead(413, { 'Content-Type': 'text/plain' });
		res.end(`Content-Length too large after decompression (maximum is ${opt.maxBody})`);
		return;
	}
	if (d.error) {
		refuse(6, d.error);
		return;
	}
	let text;
	try {
		text = utf8.decode(d.body);
	} catch (e) {
		refuse(6, 'the body is not UTF-8');
		return;
	}

	if (route === 'ack') {
		let q;
		try {
			q = JSON.parse(text);
		} catch (e) {
			refuse(6, 'the ack query is not JSON');
			return;
		}
		if (!q || typeof q !== 'object' || Array.isArray(q) || !Array.isArray(q.acks) ||
		    !q.acks.every((a) => Number.isInteger(a) && a >= 0)) {
			refuse(6, 'the ack query is not {"acks":[ids]}');
			return;
		}
		const c = channels.get(channel);
		const now = Date.now();
		const acks = {};
		for (const id of q.acks) {
			const a = c && c.acks.get(id);
			// A status reported true is forgotten: asked again, it is false.
			if (a && !a.never && now >= a.readyAt) {
				acks[id] = true;
				c.acks.delete(id);
			} else {
				acks[id] = false;
			}
		}
		answer(200, { acks });
		return;
	}

	// The events of the request, each with its metadata.
	let events = [];
	let bad = null;
	if (route === 'event') {
		if (text.trim() === '') {
			refuse(5, 'empty body');
			return;
		}
		const s = splitEvents(text);
		let i = 0;
		for (; i < s.events.length; i++) {
			const why = checkEvent(s.events[i]);
			if (why) {
				bad = { code: why[0], index: i, why: `event ${i}: ${why[1]}` };
				break;
			}
		}
		if (!bad && s.bad !== undefined)
			bad = { code: 6, index: s.bad, why: `event ${s.bad}: not a JSON object` };
		events = s.events.slice(0, bad ? bad.index : s.events.length).map((e) => ({
			event: e.event,
			time: 'time' in e ? e.time : null,
			host: 'host' in e ? e.host : null,
			source: 'source' in e ? e.source : null,
			sourcetype: 'sourcetype' in e ? e.sourcetype : null,
			index: 'index' in e ? e.index : null,
			fields: 'fields' in e ? e.fields : null,
			unknown: Object.keys(e).filter((k) => !KNOWN.has(k)),
		}));
	} else {
		const meta = (k) => u.searchParams.get(k);
		const idx = meta('index');
		if (idx !== null && indexes && !indexes.includes(idx)) {
			refuse(7, `index ${JSON.stringify(idx)} is not one of --indexes`);
			return;
		}
		for (const line of text.split(/[\r\n]+/)) {
			if (line === '') continue;
			events.push({
				event: line, time: meta('time'), host: meta('host'), source: meta('source'),
				sourcetype: meta('sourcetype'), index: idx, fields: null, unknown: [],
			});
		}
		if (events.length === 0) {
			refuse(5, 'no line in the body');
			return;
		}
	}
	if (bad && opt.onInvalid === 'reject') {
		refuse(bad.code, bad.why, { 'invalid-event-number': bad.index });
		return;
	}

	// Accepted: log every event before the client can hear so.
	const never = opt.ack && !bad ? faults.take(['ackNever'], req, (f) => data || f.match !== undefined) : null;
	const ackId = opt.ack && !bad ? newAck(channel, never) : null;
	rec.ackId = ackId;
	if (never) rec.fault = rec.fault ? `${rec.fault}+ackNever` : 'ackNever';
	const faulted = !!never || (fault !== null && (fault.kind === 'slow' || fault.kind === 'reset'));
	for (const e of events) {
		log.write({
			event: e.event, time: e.time, host: e.host, source: e.source,
			sourcetype: e.sourcetype, index: e.index, fields: e.fields, channel,
			request: n, endpoint: route, ackId, unknown: e.unknown, faulted,
		});
	}
	stats.accepted += events.length;
	rec.events = events.length;

	if (bad) {
		// --on-invalid prefix: the events before the bad one were indexed.
		refuse(bad.code, bad.why, { 'invalid-event-number': bad.index });
		return;
	}
	if (fault && fault.kind === 'reset') {
		reqlog.write(rec);
		req.socket.destroy();
		return;
	}
	if (fault && fault.kind === 'slow') await P.sleep(fault.ms);
	answer(200, ackId === null ? { text: 'Success', code: 0 } : { text: 'Success', code: 0, ackId });
}

const server = http.createServer((req, res) => {
	handle(req, res).catch((e) => {
		process.stderr.write(`${PROG}: internal error: ${e.stack}\n`);
		process.exit(3);
	});
});
// Keep-alive connections live past a test's requests; a stop closes them.
server.keepAliveTimeout = 60000;
P.serve(server, opt.portFile);
