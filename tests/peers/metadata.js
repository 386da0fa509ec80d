#!/usr/bin/env node
'use strict';
// tests/peers/metadata.js — the two places temporary AWS credentials come
// from over HTTP: the EC2 instance metadata service as IMDSv2 requires it
// (HttpTokens=required: no IMDSv1), and the ECS/EKS container credentials
// endpoint.
//
//   node tests/peers/metadata.js --port-file F [--log F] [--role NAME]
//        [--no-role] [--access-key K] [--secret-key S] [--session-token T]
//        [--expires-in SECONDS] [--container-path P] [--auth-token T]
//
// Instance metadata:
//   PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1 to
//     21600) -> 200, a new session token (text); without the header or out
//     of range: 400; with X-Forwarded-For (a proxied request): 403.
//   GET /latest/meta-data/... without a valid X-aws-ec2-metadata-token (an
//     IMDSv1 request, or an expired or unknown token): 401.
//   GET /latest/meta-data/iam/security-credentials/ -> the role name
//     (--role, default "ts-test-role"); 404 with --no-role.
//   GET /latest/meta-data/iam/security-credentials/ROLE -> {"Code":"Success",
//     "LastUpdated","Type":"AWS-HMAC","AccessKeyId","SecretAccessKey",
//     "Token","Expiration"}; another role: 404.
// Container credentials:
//   GET --container-path (default /v2/credentials, any query) ->
//     {"AccessKeyId","SecretAccessKey","Token","Expiration","RoleArn"};
//     with --auth-token the Authorization header must equal it: missing 401,
//     different 403.
// Credentials: --access-key (default ASIAMETADATAEXAMPLE1), --secret-key,
// --session-token; Expiration is now + --expires-in seconds (default 3600).
//
// --log: one line per request (control endpoints excepted), written before
// the answer: {"request":n,"method","path","status","kind":"token"|"roles"|
// "credentials"|"container"|"other","withToken":bool (a session token header
// came),"authorization":"none"|"right"|"wrong","fault":kind|null}.  Secrets
// and tokens are never logged.
//
// Faults (POST /_fault, JSON; "match" narrows one to requests whose
// "METHOD /path" contains it, "count" as in peer.js, default 1):
//   {"kind":"status","status":N}  answer N (text body) instead
//   {"kind":"body","body":"..."}  answer 200 with this body instead
//   {"kind":"slow","ms":M}        answer M ms late
//   {"kind":"reset"}              close the connection without an answer
// DELETE /_fault clears them; GET /_stats counts requests by kind and status.

const http = require('http');
const crypto = require('crypto');
const P = require('./peer');

const PROG = 'metadata.js';
P.dieOnBugs(PROG);

const USAGE = 'node metadata.js --port-file F [--log F] [--role NAME] [--no-role] ' +
	'[--access-key K] [--secret-key S] [--session-token T] [--expires-in SECONDS] ' +
	'[--container-path P] [--auth-token T]';
const opt = P.parseArgs(PROG, USAGE, {
	'port-file': { arg: true, required: true },
	log: { arg: true },
	role: { arg: true, def: 'ts-test-role' },
	'no-role': { arg: false, def: false },
	'access-key': { arg: true, def: 'ASIAMETADATAEXAMPLE1' },
	'secret-key': { arg: true, def: 'metadataSecretKeyEXAMPLE/0123456789abcd' },
	'session-token': { arg: true, def: 'metadataSessionTokenEXAMPLE==' },
	'expires-in': { arg: true, parse: P.uint, def: 3600 },
	'container-path': { arg: true, def: '/v2/credentials' },
	'auth-token': { arg: true },
}, process.argv.slice(2));

const faults = new P.Faults({
	status: { defaultCount: 1, check: (f) => P.checkStatus(f, 200) },
	body: { defaultCount: 1, check: (f) => (typeof f.body === 'string' ? null : 'body must be a string') },
	slow: { defaultCount: 1, check: P.checkMs },
	reset: { defaultCount: 1 },
});

const log = new P.Log(opt.log);
const stats = { requests: 0, byKind: {}, byStatus: {}, tokensIssued: 0 };
const tokens = new Map(); // session token -> expiry (ms)
const ROLES = '/latest/meta-data/iam/security-credentials/';
let nreq = 0;

function credentials(withCode) {
	const now = Date.now();
	const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
	const c = {};
	if (withCode) {
		c.Code = 'Success';
		c.LastUpdated = iso(now);
		c.Type = 'AWS-HMAC';
	}
	c.AccessKeyId = opt.accessKey;
	c.SecretAccessKey = opt.secretKey;
	c.Token = opt.sessionToken;
	c.Expiration = iso(now + opt.expiresIn * 1000);
	if (!withCode) c.RoleArn = `arn:aws:iam::123456789012:role/${opt.role}`;
	return JSON.stringify(c);
}

function tokenValid(req) {
	const t = req.headers['x-aws-ec2-metadata-token'];
	if (t === undefined) return false;
	const exp = tokens.get(t);
	return exp !== undefined && exp > Date.now();
}

// What the request asks for, and the answer it gets without a fault.
function route(req) {
	const path = req.url.split('?')[0];
	const auth = req.headers.authorization;
	const r = {
		kind: 'other', status: 404, body: 'not found\n', type: 'text/plain',
		withToken: req.headers['x-aws-ec2-metadata-token'] !== undefined,
		authorization: auth === undefined ? 'none' : (opt.authToken !== undefined && auth === opt.authToken ? 'right' : 'wrong'),
	};
	if (path === '/latest/api/token') {
		r.kind = 'token';
		if (req.method !== 'PUT') {
			r.status = 405;
			r.body = 'method not allowed\n';
			return r;
		}
		const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
		if (req.headers['x-forwarded-for'] !== undefined) {
			r.status = 403;
			r.body = 'forbidden\n';
		} else if (ttl === undefined || !/^[0-9]+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > 21600) {
			r.status = 400;
			r.body = 'bad request\n';
		} else {
			const t = crypto.randomBytes(24).toString('base64');
			tokens.set(t, Date.now() + Number(ttl) * 1000);
			stats.tokensIssued++;
			r.status = 200;
			r.body = t;
		}
		return r;
	}
	if (path.startsWith('/latest/meta-data/')) {
		r.kind = path === ROLES ? 'roles' : path.startsWith(ROLES) ? 'credentials' : 'other';
		if (req.method !== 'GET') {
			r.status = 405;
			r.body = 'method not allowed\n';
		} else if (!tokenValid(req)) {
			// IMDSv1 is off: a request without a good token is refused
			r.status = 401;
			r.body = 'unauthorized\n';
		} else if (r.kind === 'roles') {
			if (!opt.noRole) {
				r.status = 200;
				r.body = opt.role;
			}
		} else if (r.kind === 'credentials' && !opt.noRole && path === ROLES + opt.role) {
			r.status = 200;
			r.body = credentials(true);
			r.type = 'application/json';
		}
		return r;
	}
	if (path === opt.containerPath) {
		r.kind = 'container';
		if (req.method !== 'GET') {
			r.status = 405;
			r.body = 'method not allowed\n';
		} else if (opt.authToken !== undefined && r.authorization === 'none') {
			r.status = 401;
			r.body = '{"message":"no authorization token"}';
		} else if (opt.authToken !== undefined && r.authorization === 'wrong') {
			r.status = 403;
			r.body = '{"message":"wrong authorization token"}';
		} else {
			r.status = 200;
			r.body = credentials(false);
			r.type = 'application/json';
		}
	}
	return r;
}

async function handle(req, res) {
	if (await P.control(req, res, faults, () => stats)) return;
	await P.readBody(req, 65536); // nothing is expected; drain it
	const n = ++nreq;
	const r = route(req);
	const f = faults.take(['status', 'body', 'slow', 'reset'], req);
	if (f && f.kind === 'status') {
		r.status = f.status;
		r.body = `fault ${f.status}\n`;
		r.type = 'text/plain';
	} else if (f && f.kind === 'body') {
		r.status = 200;
		r.body = f.body;
		r.type = 'application/json';
	}
	const path = req.url.split('?')[0];
	stats.requests++;
	stats.byKind[r.kind] = (stats.byKind[r.kind] || 0) + 1;
	const st = f && f.kind === 'reset' ? 'reset' : String(r.status);
	stats.byStatus[st] = (stats.byStatus[st] || 0) + 1;
	log.write({
		request: n, method: req.method, path, status: f && f.kind === 'reset' ? null : r.status,
		kind: r.kind, withToken: r.withToken, authorization: r.authorization, fault: f ? f.kind : null,
	});
	if (f && f.kind === 'reset') {
		req.socket.destroy();
		return;
	}
	if (f && f.kind === 'slow') await P.sleep(f.ms);
	const body = Buffer.from(r.body);
	res.writeHead(r.status, { 'Content-Type': r.type, 'Content-Length': body.length });
	res.end(body);
}

const server = http.createServer((req, res) => {
	handle(req, res).catch((e) => {
		process.stderr.write(`${PROG}: internal error: ${e && e.stack ? e.stack : e}\n`);
		process.exit(3);
	});
});
P.serve(server, opt.portFile);
