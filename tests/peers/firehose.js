#!/usr/bin/env node
'use strict';
// tests/peers/firehose.js — a strict endpoint of the Kinesis Data Firehose
// HTTP endpoint delivery protocol (request/response format 1.0).
//
//   node tests/peers/firehose.js --port-file F [--log F] [--requests F]
//        [--access-key K] [--path P] [--max-body BYTES] [--max-records N]
//
// A delivery is POST <path> with Content-Type: application/json, a
// Content-Length, optionally Content-Encoding: gzip, the headers
// X-Amz-Firehose-Protocol-Version: 1.0 and X-Amz-Firehose-Request-Id, the
// access key in X-Amz-Firehose-Access-Key (checked when --access-key is
// given), optionally X-Amz-Firehose-Common-Attributes ({"commonAttributes":
// {name: string}}) and X-Amz-Firehose-Source-Arn; and the body
// {"requestId": same as the header, "timestamp": ms integer, "records":
// [{"data": base64}, ...]} — 1 to --max-records (10000) records, each at most
// 1024000 bytes decoded, nothing else.  Accepted: 200 {"requestId",
// "timestamp"}; refused: 4xx {"requestId","timestamp","errorMessage"}.
// --path limits deliveries to one path (any other: 404).
//
// --log: one line per accepted record, written before the answer is sent:
//   {"requestId":..,"attempt":n,"request":n,"record":i,"data":"UTF-8 text"|null,
//    "dataBase64":"as sent","bytes":n,"timestamp":..,"commonAttributes":{}|null,
//    "sourceArn":..|null,"faulted":bool}
// (attempt: how many requests with this request id have arrived, this one
// included; data is null when the bytes are not UTF-8; faulted marks records
// accepted by a request hit by a "slow", "reset" (when "response") or
// "wrongRequestId" fault: the sender will likely deliver them again.)
// --requests: one line per request (control endpoints excepted):
//   {"request":n,"method","path","status","requestId","attempt","records",
//    "bytes","encoding","error","fault"}
//
// Faults (POST /_fault, JSON): {"kind":"status","status":500,"count":1}
// answers that status without accepting; {"kind":"slow","ms":M} accepts, then
// answers after M ms; {"kind":"reset"} closes the connection before the body
// is read, {"kind":"reset","when":"response"} after the records were
// accepted; {"kind":"wrongRequestId"} accepts and answers 200 with another
// request id (which the protocol counts as a failure).  "match" narrows a
// fault to requests whose "METHOD /path?query" contains it.  DELETE /_fault
// clears them, GET /_stats counts.

const http = require('http');
const crypto = require('crypto');
const { TextDecoder } = require('util');
const P = require('./peer');

const PROG = 'firehose.js';
P.dieOnBugs(PROG);

const USAGE = 'node firehose.js --port-file F [--log F] [--requests F] [--access-key K] ' +
	'[--path P] [--max-body BYTES] [--max-records N]';
const opt = P.parseArgs(PROG, USAGE, {
	'port-file': { arg: true, required: true },
	log: { arg: true },
	requests: { arg: true },
	'access-key': { arg: true },
	path: { arg: true },
	'max-body': { arg: true, parse: P.uint, def: 64 * 1024 * 1024 },
	'max-records': { arg: true, parse: (v) => { const n = P.uint(v); return n >= 1 && n <= 10000 ? n : undefined; }, def: 10000 },
}, process.argv.slice(2));

const MAX_RECORD = 1024000;

const faults = new P.Faults({
	status: { defaultCount: 1, check: (f) => P.checkStatus(f) },
	slow: { defaultCount: 1, check: P.checkMs },
	reset: { defaultCount: 1, check: P.checkReset },
	wrongRequestId: { defaultCount: 1 },
});

const log = new P.Log(opt.log);
const reqlog = new P.Log(opt.requests);
const stats = { requests: 0, accepted: 0, byStatus: {} };
const attempts = new Map(); // request id -> requests seen
const utf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// An error message for a bad X-Amz-Firehose-Common-Attributes value, or null.
function checkCommon(v) {
	let o;
	try {
		o = JSON.parse(v);
	} catch (e) {
		return 'X-Amz-Firehose-Common-Attributes is not JSON';
	}
	if (!o || typeof o !== 'object' || Array.isArray(o) || Object.keys(o).join() !== 'commonAttributes')
		return 'X-Amz-Firehose-Common-Attributes is not {"commonAttributes":{...}}';
	const a = o.commonAttributes;
	if (!a || typeof a !== 'object' || Array.isArray(a)) return 'commonAttributes is not an object';
	const keys = Object.keys(a);
	if (keys.length > 50) return 'more than 50 common attributes';
	for (const k of keys) {
		if (k.length < 1 || k.length > 256) return `common attribute name ${JSON.stringify(k)} is not 1 to 256 characters`;
		if (typeof a[k] !== 'string' || a[k].length > 1024)
			return `common attribute ${JSON.stringify(k)} is not a string of at most 1024 characters`;
	}
	return null;
}

async function handle(req, res) {
	if (await P.control(req, res, faults, () => ({
		...stats, faultsFired: faults.fired, pendingFaults: faults.pending,
	}))) return;

	const n = ++stats.requests;
	const u = new URL(req.url, 'http://peer');
	const hid = req.headers['x-amz-firehose-request-id'];
	let attempt = null;
	if (hid !== undefined) {
		attempt = (attempts.get(hid) || 0) + 1;
		attempts.set(hid, attempt);
	}
	const rec = {
		request: n, method: req.method, path: u.pathname, status: null,
		requestId: hid === undefined ? null : hid, attempt, records: 0, bytes: 0,
		encoding: null, error: null, fault: null,
	};
	const fault = faults.take(['status', 'slow', 'reset', 'wrongRequestId'], req);
	if (fault) rec.fault = fault.kind;

	const answer = (status, error, rid) => {
		rec.status = status;
		rec.error = error || null;
		stats.byStatus[status] = (stats.byStatus[status] || 0) + 1;
		reqlog.write(rec);
		const body = { requestId: rid !== undefined ? rid : (hid || ''), timestamp: Date.now() };
		if (error) body.errorMessage = error;
		P.sendJson(res, status, body);
	};

	if (fault && fault.kind === 'reset' && fault.when !== 'response') {
		reqlog.write(rec);
		req.socket.destroy();
		return;
	}
	const r = await P.readBody(req, opt.maxBody);
	if (r.aborted) {
		rec.error = 'the client went away before the body was in';
		reqlog.write(rec);
		return;
	}
	if (r.tooLarge) {
		answer(413, `a body of ${r.length} bytes is over the ${opt.maxBody} byte limit`);
		return;
	}
	rec.bytes = r.body.length;
	if (fault && fault.kind === 'status') {
		answer(fault.status, `injected fault: status ${fault.status}`);
		return;
	}

	if (opt.path !== undefined && u.pathname !== opt.path) {
		answer(404, `no delivery endpoint at ${u.pathname}`);
		return;
	}
	if (req.method !== 'POST') {
		answer(405, `${req.method} is not a delivery (POST)`);
		return;
	}
	const h = req.headers;
	if (h['x-amz-firehose-protocol-version'] !== '1.0') {
		answer(400, h['x-amz-firehose-protocol-version'] === undefined
			? 'X-Amz-Firehose-Protocol-Version is missing'
			: `X-Amz-Firehose-Protocol-Version is ${JSON.stringify(h['x-amz-firehose-protocol-version'])}, not 1.0`);
		return;
	}
	if (hid === undefined || hid === '') {
		answer(400, 'X-Amz-Firehose-Request-Id is missing');
		return;
	}
	if (opt.accessKey !== undefined) {
		const k = h['x-amz-firehose-access-key'];
		if (k === undefined) {
			answer(401, 'X-Amz-Firehose-Access-Key is missing');
			return;
		}
		if (k !== opt.accessKey) {
			answer(403, 'X-Amz-Firehose-Access-Key is not the configured access key');
			return;
		}
	}
	if (h['content-type'] !== 'application/json') {
		answer(400, `Content-Type is ${JSON.stringify(h['content-type'] || null)}, not application/json`);
		return;
	}
	if (h['content-length'] === undefined) {
		answer(411, 'no Content-Length (the body was sent chunked)');
		return;
	}
	let common = null;
	if (h['x-amz-firehose-common-attributes'] !== undefined) {
		const err = checkCommon(h['x-amz-firehose-common-attributes']);
		if (err) {
			answer(400, err);
			return;
		}
		common = JSON.parse(h['x-amz-firehose-common-attributes']).commonAttributes;
	}
	const d = P.decodeBody(req, r.body, opt.maxBody);
	rec.encoding = d.encoding;
	if (d.tooLarge) {
		answer(413, `the body inflates past the ${opt.maxBody} byte limit`);
		return;
	}
	if (d.error) {
		answer(400, d.error);
		return;
	}

	let doc;
	try {
		doc = JSON.parse(utf8.decode(d.body));
	} catch (e) {
		answer(400, `the body is not JSON: ${e.message}`);
		return;
	}
	if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
		answer(400, 'the body is not a JSON object');
		return;
	}
	const extra = Object.keys(doc).filter((k) => !['requestId', 'timestamp', 'records'].includes(k));
	if (extra.length) {
		answer(400, `unknown member ${JSON.stringify(extra[0])} in the body`);
		return;
	}
	if (typeof doc.requestId !== 'string') {
		answer(400, 'requestId is missing or not a string');
		return;
	}
	if (doc.requestId !== hid) {
		answer(400, `requestId ${JSON.stringify(doc.requestId)} differs from X-Amz-Firehose-Request-Id ${JSON.stringify(hid)}`);
		return;
	}
	if ('timestamp' in doc && !(Number.isInteger(doc.timestamp) && doc.timestamp >= 0)) {
		answer(400, 'timestamp is not an integer number of milliseconds');
		return;
	}
	if (!Array.isArray(doc.records) || doc.records.length < 1 || doc.records.length > opt.maxRecords) {
		answer(400, Array.isArray(doc.records)
			? `${doc.records.length} records: a request carries 1 to ${opt.maxRecords}`
			: 'records is missing or not an array');
		return;
	}
	const records = [];
	for (let i = 0; i < doc.records.length; i++) {
		const x = doc.records[i];
		if (!x || typeof x !== 'object' || Array.isArray(x) || Object.keys(x).join() !== 'data') {
			answer(400, `record ${i} is not {"data": base64}`);
			return;
		}
		if (typeof x.data !== 'string' || !BASE64.test(x.data)) {
			answer(400, `record ${i}: data is not base64`);
			return;
		}
		const bytes = Buffer.from(x.data, 'base64');
		if (bytes.length > MAX_RECORD) {
			answer(413, `record ${i}: ${bytes.length} bytes is over the ${MAX_RECORD} byte limit`);
			return;
		}
		let text = null;
		try {
			text = utf8.decode(bytes);
		} catch (e) {
			text = null;
		}
		records.push({ text, b64: x.data, n: bytes.length });
	}

	// Accepted: log every record before the sender can hear so.
	const faulted = fault !== null;
	const arn = h['x-amz-firehose-source-arn'] === undefined ? null : h['x-amz-firehose-source-arn'];
	records.forEach((x, i) => log.write({
		requestId: hid, attempt, request: n, record: i, data: x.text, dataBase64: x.b64,
		bytes: x.n, timestamp: 'timestamp' in doc ? doc.timestamp : null,
		commonAttributes: common, sourceArn: arn, faulted,
	}));
	stats.accepted += records.length;
	rec.records = records.length;

	if (fault && fault.kind === 'reset') {
		reqlog.write(rec);
		req.socket.destroy();
		return;
	}
	if (fault && fault.kind === 'slow') await P.sleep(fault.ms);
	if (fault && fault.kind === 'wrongRequestId') {
		answer(200, null, crypto.randomUUID());
		return;
	}
	answer(200);
}

const server = http.createServer((req, res) => {
	handle(req, res).catch((e) => {
		process.stderr.write(`${PROG}: internal error: ${e.stack}\n`);
		process.exit(3);
	});
});
server.keepAliveTimeout = 60000;
P.serve(server, opt.portFile);
