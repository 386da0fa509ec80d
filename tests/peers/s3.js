#!/usr/bin/env node
'use strict';
// tests/peers/s3.js — an S3 for the tests: @20minutes/s3rver (objects on disk
// under --dir) behind a proxy that checks what s3rver lets through, as S3 does.
//
//   node --openssl-legacy-provider tests/peers/s3.js --port-file F [--log F]
//        [--dir D] [--bucket NAME]... [--access-key K --secret-key S]
//        [--session-token T] [--region R] [--min-part-size BYTES]
//        [--max-body BYTES] [--allow-anonymous]
//
// The port in --port-file is the proxy's; clients talk path-style to
// http://127.0.0.1:PORT/bucket/key.  (--openssl-legacy-provider: s3rver's
// ListObjectsV2 continuation tokens are DES-encrypted, which OpenSSL 3 keeps
// in its legacy provider; s3.js refuses to start without it.)
//
// Credentials: S3RVER / S3RVER unless --access-key/--secret-key name others
// (then S3RVER is refused).  --session-token: requests must carry it in
// X-Amz-Security-Token (signed); without the option, any token is refused.
//
// What the proxy checks, in S3's order, answering S3's XML errors:
//   * a request body is sent with Content-Length (Transfer-Encoding:
//     501 NotImplemented; a PUT without length: 411 MissingContentLength);
//   * Signature Version 4, from the Authorization header or a presigned query:
//     403 AccessDenied (unsigned, unless --allow-anonymous; expired; headers
//     present but not signed: host and every x-amz-* must be), 400
//     AuthorizationHeaderMalformed (credential scope: date of X-Amz-Date,
//     --region, service s3, aws4_request), 403 InvalidAccessKeyId,
//     400 InvalidToken, 403 RequestTimeTooSkewed (15 minutes), 400
//     InvalidRequest (no x-amz-content-sha256), 403 SignatureDoesNotMatch
//     (with the CanonicalRequest and StringToSign the peer computed: the path
//     is decoded once and each segment encoded once, as S3 does; the query
//     decoded and encoded again, sorted; header values trimmed, inner spaces
//     collapsed).  An unencoded "+" in the query is refused (400
//     InvalidArgument): S3 clients disagree on what it means;
//   * the body: x-amz-content-sha256 (400 XAmzContentSHA256Mismatch unless
//     UNSIGNED-PAYLOAD; STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies are passed
//     to s3rver, their chunk signatures unchecked), Content-MD5 (400
//     InvalidDigest, BadDigest), x-amz-checksum-crc32/crc32c/sha1/sha256 (400
//     BadDigest);
//   * multipart uploads, which s3rver does not police: part numbers 1-10000
//     (400 InvalidArgument), the upload id of this bucket and key (404
//     NoSuchUpload), on completion parts in ascending order (400
//     InvalidPartOrder), uploaded with these ETags (400 InvalidPart), all but
//     the last at least --min-part-size (default 5 MiB; 400 EntityTooSmall).
// Then s3rver answers (NoSuchBucket, NoSuchKey, the objects, ...).
//
// --log: one line per request (control endpoints excepted), written before
// the answer is sent:
//   {"request":n,"op":"PutObject"|"UploadPart"|...,"method","path","query",
//    "bucket","key","uploadId","partNumber","status","error","detail","auth",
//    "bytes","sha256","contentSha256","contentMd5","responseBytes","fault",
//    "tampered","faulted"}
// (status: the answer's, null when the connection was reset; error: the S3
// error code or null; detail: why the peer refused; bytes and sha256: the
// body as received, after a tamper; auth: "header", "query" or "none";
// faulted: stored, but a "slow" or "reset" fault hit the answer.)
//
// Faults (POST /_fault, JSON), each for "count" requests (default 1), the
// first pending one whose "match" (a substring of "METHOD /path?query") fits:
//   {"kind":"status","status":503}     answers SlowDown (500: InternalError;
//       other statuses: "s3Code" and "message" say what) and stores nothing;
//   {"kind":"slow","ms":M}             waits M ms before answering;
//   {"kind":"reset"}                   closes the connection before reading the
//       body; "when":"response" after s3rver answered (for a GET: half the
//       body sent);
//   {"kind":"tamper"}                  flips one bit of the middle byte of the
//       request body before the checks (so a checksum catches it, or the
//       object is stored damaged); "where":"response" the body of a GET answer.
// DELETE /_fault clears them, GET /_stats counts.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const P = require('./peer');

const PROG = 's3.js';
P.dieOnBugs(PROG);

const USAGE = 'node --openssl-legacy-provider s3.js --port-file F [--log F] [--dir D] ' +
	'[--bucket NAME]... [--access-key K --secret-key S] [--session-token T] [--region R] ' +
	'[--min-part-size BYTES] [--max-body BYTES] [--allow-anonymous]';
const opt = P.parseArgs(PROG, USAGE, {
	'port-file': { arg: true, required: true },
	log: { arg: true },
	dir: { arg: true },
	bucket: { arg: true, multi: true },
	'access-key': { arg: true, def: 'S3RVER' },
	'secret-key': { arg: true, def: 'S3RVER' },
	'session-token': { arg: true },
	region: { arg: true, def: 'us-east-1' },
	'min-part-size': { arg: true, parse: P.uint, def: 5 * 1024 * 1024 },
	'max-body': { arg: true, parse: P.uint, def: 1024 * 1024 * 1024 },
	'allow-anonymous': {},
}, process.argv.slice(2));

try {
	crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
} catch (e) {
	process.stderr.write(`${PROG}: this node cannot use DES, which s3rver's continuation tokens need: ` +
		'run it as node --openssl-legacy-provider\n');
	process.exit(2);
}

let S3rver, AWSAccount;
try {
	S3rver = require('@20minutes/s3rver');
	AWSAccount = require('@20minutes/s3rver/lib/models/account');
} catch (e) {
	process.stderr.write(`${PROG}: @20minutes/s3rver is not installed: run scripts/setup (npm ci --prefix tests)\n`);
	process.exit(2);
}

const dir = opt.dir || fs.mkdtempSync(path.join(os.tmpdir(), 's3-peer-'));
fs.mkdirSync(dir, { recursive: true });
if (opt.accessKey !== 'S3RVER' || opt.secretKey !== 'S3RVER') {
	AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
	AWSAccount.DUMMY_ACCOUNT.createKeyPair(opt.accessKey, opt.secretKey);
}

const faults = new P.Faults({
	status: {
		defaultCount: 1,
		check: (f) => P.checkStatus(f) ||
			('s3Code' in f && typeof f.s3Code !== 'string' ? 's3Code must be a string' : null) ||
			('message' in f && typeof f.message !== 'string' ? 'message must be a string' : null),
	},
	slow: { defaultCount: 1, check: P.checkMs },
	reset: { defaultCount: 1, check: P.checkReset },
	tamper: {
		defaultCount: 1,
		check: (f) => ('where' in f && f.where !== 'request' && f.where !== 'response'
			? 'where must be "request" or "response"' : null),
	},
});
const log = new P.Log(opt.log);
const stats = { requests: 0, stored: 0, byStatus: {}, byError: {} };

// uploadId -> { bucket, key, parts: Map(partNumber -> { etag, size }) }
const uploads = new Map();

const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const xmlEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
	.replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

// --- SigV4, written from the specification (not s3rver's, which this replaces)

// S3's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ (and "/" when kept) as %XY.
function uriEncode(s, keepSlash) {
	let out = '';
	for (const b of Buffer.from(s, 'utf8')) {
		const c = String.fromCharCode(b);
		if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
		else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
	}
	return out;
}

// Percent-decoding as UTF-8; undefined for a malformed escape or bad UTF-8.
function pctDecode(s) {
	try {
		return decodeURIComponent(s);
	} catch (e) {
		return undefined;
	}
}

// [name, value] pairs of a raw query, decoded; { error } when one cannot be.
function parseQuery(raw) {
	const out = [];
	if (raw === '') return { pairs: out };
	for (const piece of raw.split('&')) {
		if (piece === '') continue;
		if (piece.includes('+'))
			return { error: `an unencoded "+" in the query (${piece}): send %2B or %20` };
		const eq = piece.indexOf('=');
		const name = pctDecode(eq < 0 ? piece : piece.slice(0, eq));
		const value = pctDecode(eq < 0 ? '' : piece.slice(eq + 1));
		if (name === undefined || value === undefined)
			return { error: `a malformed percent-escape in the query (${piece})` };
		out.push([name, value]);
	}
	return { pairs: out };
}

function canonicalQuery(pairs, skip) {
	return pairs.filter(([k]) => k !== skip)
		.map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
		.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
		.map(([k, v]) => `${k}=${v}`)
		.join('&');
}

// lower-case header name -> values (in order), from the raw headers.
function headerLists(req) {
	const m = new Map();
	for (let i = 0; i < req.rawHeaders.length; i += 2) {
		const k = req.rawHeaders[i].toLowerCase();
		if (!m.has(k)) m.set(k, []);
		m.get(k).push(req.rawHeaders[i + 1]);
	}
	return m;
}

function signingKey(secret, date, region, service) {
	return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
}

// Parses an X-Amz-Date; NaN when malformed.
function amzTime(s) {
	const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
	if (!m) return NaN;
	return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

class S3Err {
	constructor(status, code, message, extra, detail) {
		Object.assign(this, { status, code, message, extra: extra || {}, detail: detail || message });
	}
}
const denied = (detail, extra) => new S3Err(403, 'AccessDenied', 'Access Denied', extra, detail);
const malformedAuth = (why, extra) => new S3Err(400, 'AuthorizationHeaderMalformed',
	`The authorization header is malformed; ${why}`, extra);

// Verifies the request's signature.  Returns { auth, key } or throws S3Err.
function verify(req, rawPath, pairs, hdrs) {
	const h = req.headers;
	const q = new Map(pairs);
	let auth, scope, signed, sigGiven, amzDate, payload;
	if (h.authorization !== undefined && q.has('X-Amz-Algorithm'))
		throw new S3Err(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
	if (h.authorization !== undefined) {
		auth = 'header';
		const a = h.authorization;
		if (/^AWS /.test(a))
			throw new S3Err(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
		const m = /^AWS4-HMAC-SHA256 (.*)$/.exec(a);
		if (!m) throw new S3Err(400, 'InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: a });
		const parts = new Map();
		for (const c of m[1].split(',')) {
			const t = c.trim();
			const eq = t.indexOf('=');
			if (eq < 0) throw malformedAuth(`the component ${JSON.stringify(t)} is not name=value`);
			parts.set(t.slice(0, eq), t.slice(eq + 1));
		}
		for (const k of ['Credential', 'SignedHeaders', 'Signature'])
			if (!parts.has(k)) throw malformedAuth(`missing ${k}.`);
		if (parts.size !== 3) throw malformedAuth('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
		scope = parts.get('Credential').split('/');
		signed = parts.get('SignedHeaders').split(';');
		sigGiven = parts.get('Signature');
		amzDate = h['x-amz-date'];
		if (Number.isNaN(amzTime(amzDate)))
			throw denied('no valid X-Amz-Date header', {});
		if (Math.abs(Date.now() - amzTime(amzDate)) > 15 * 60 * 1000)
			throw new S3Err(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.',
				{ RequestTime: amzDate, ServerTime: new Date().toISOString(), MaxAllowedSkewMilliseconds: 900000 });
		payload = h['x-amz-content-sha256'];
		if (payload === undefined)
			throw new S3Err(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
		if (!/^([0-9a-fA-F]{64}|UNSIGNED-PAYLOAD|STREAMING-AWS4-HMAC-SHA256-PAYLOAD)$/.test(payload))
			throw new S3Err(400, 'InvalidArgument',
				'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value (other streaming forms are not implemented by this peer).',
				{ ArgumentName: 'x-amz-content-sha256', ArgumentValue: payload });
	} else if (q.has('X-Amz-Algorithm')) {
		auth = 'query';
		if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
			throw new S3Err(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
		for (const k of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'])
			if (!q.has(k)) throw new S3Err(400, 'AuthorizationQueryParametersError',
				'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
		scope = q.get('X-Amz-Credential').split('/');
		signed = q.get('X-Amz-SignedHeaders').split(';');
		sigGiven = q.get('X-Amz-Signature');
		amzDate = q.get('X-Amz-Date');
		const t = amzTime(amzDate);
		if (Number.isNaN(t)) throw new S3Err(400, 'AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
		const exp = /^[0-9]+$/.test(q.get('X-Amz-Expires')) ? Number(q.get('X-Amz-Expires')) : NaN;
		if (Number.isNaN(exp) || exp > 604800)
			throw new S3Err(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be a number of seconds up to 604800');
		if (Date.now() > t + exp * 1000) throw denied('Request has expired', { 'X-Amz-Expires': exp });
		payload = q.has('X-Amz-Content-Sha256') ? q.get('X-Amz-Content-Sha256') : 'UNSIGNED-PAYLOAD';
	} else {
		if (opt.allowAnonymous) return { auth: 'none' };
		throw denied('an unsigned request (no Authorization header, no presigned query)');
	}

	if (scope.length !== 5) throw malformedAuth('the Credential is not KEY/DATE/REGION/SERVICE/aws4_request.');
	const [akid, date, region, service, term] = scope;
	if (date !== amzDate.slice(0, 8))
		throw malformedAuth(`Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
	if (region !== opt.region)
		throw malformedAuth(`the region '${region}' is wrong; expecting '${opt.region}'`, { Region: opt.region });
	if (service !== 's3') throw malformedAuth(`incorrect service "${service}". This endpoint belongs to "s3".`);
	if (term !== 'aws4_request') throw malformedAuth(`incorrect terminal "${term}". This endpoint uses "aws4_request".`);
	if (akid !== opt.accessKey)
		throw new S3Err(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: akid });

	const tokenGiven = auth === 'query' ? q.get('X-Amz-Security-Token') : h['x-amz-security-token'];
	if (opt.sessionToken !== undefined && tokenGiven === undefined)
		throw new S3Err(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.',
			{ AWSAccessKeyId: akid }, 'temporary credentials (--session-token) but no X-Amz-Security-Token');
	if (tokenGiven !== undefined && tokenGiven !== opt.sessionToken)
		throw new S3Err(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.', {},
			opt.sessionToken === undefined ? 'a security token, and the peer has no --session-token'
				: 'X-Amz-Security-Token is not --session-token');

	const lower = signed.map((s) => s.toLowerCase());
	const unsigned = [];
	if (!lower.includes('host')) unsigned.push('host');
	for (const k of hdrs.keys())
		if (k.startsWith('x-amz-') && !lower.includes(k)) unsigned.push(k);
	if (unsigned.length)
		throw denied('There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });

	const decoded = pctDecode(rawPath);
	if (decoded === undefined) throw new S3Err(400, 'InvalidURI', "Couldn't parse the specified URI.", { URI: rawPath });
	const creq = [
		req.method,
		uriEncode(decoded, true),
		canonicalQuery(pairs, auth === 'query' ? 'X-Amz-Signature' : null),
		lower.map((k) => `${k}:${(hdrs.get(k) || []).map((v) => v.trim().replace(/ +/g, ' ')).join(',')}\n`).join(''),
		lower.join(';'),
		payload,
	].join('\n');
	const sts = ['AWS4-HMAC-SHA256', amzDate, scope.slice(1).join('/'), sha256hex(creq)].join('\n');
	const sig = crypto.createHmac('sha256', signingKey(opt.secretKey, date, region, service)).update(sts).digest('hex');
	if (sig !== sigGiven)
		throw new S3Err(403, 'SignatureDoesNotMatch',
			'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
			{ AWSAccessKeyId: akid, StringToSign: sts, SignatureProvided: sigGiven, CanonicalRequest: creq },
			`signature ${sigGiven}, expected ${sig} for the canonical request ${JSON.stringify(creq)}`);
	return { auth, payload };
}

// --- checksums --------------------------------------------------------------

const CRC32C = (() => {
	const t = new Uint32Array(256);
	for (let i = 0; i < 256; i++) {
		let c = i;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
		t[i] = c >>> 0;
	}
	return t;
})();
function crc32c(buf) {
	let c = 0xffffffff;
	for (const b of buf) c = CRC32C[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}
function crc32(buf) {
	if (zlib.crc32) return zlib.crc32(buf) >>> 0;
	let c = 0xffffffff;
	for (const b of buf) {
		c ^= b;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	}
	return (c ^ 0xffffffff) >>> 0;
}
const be32 = (n) => {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(n);
	return b.toString('base64');
};
const CHECKSUMS = {
	crc32: ['CRC32', (b) => be32(crc32(b))],
	crc32c: ['CRC32C', (b) => be32(crc32c(b))],
	sha1: ['SHA1', (b) => crypto.createHash('sha1').update(b).digest('base64')],
	sha256: ['SHA256', (b) => crypto.createHash('sha256').update(b).digest('base64')],
};

// Throws S3Err when the body is not what the headers say it is.
function checkBody(h, payload, body) {
	if (payload && /^[0-9a-fA-F]{64}$/.test(payload)) {
		const got = sha256hex(body);
		if (got !== payload.toLowerCase())
			throw new S3Err(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.",
				{ ClientComputedContentSHA256: payload, S3ComputedContentSHA256: got });
	}
	const streaming = payload === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
	if (h['content-md5'] !== undefined && !streaming) {
		const given = h['content-md5'];
		const raw = Buffer.from(given, 'base64');
		if (raw.length !== 16 || raw.toString('base64') !== given)
			throw new S3Err(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': given });
		const got = crypto.createHash('md5').update(body).digest('base64');
		if (got !== given)
			throw new S3Err(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.',
				{ ExpectedDigest: given, CalculatedDigest: got });
	}
	for (const [alg, [name, f]] of Object.entries(CHECKSUMS)) {
		const given = h[`x-amz-checksum-${alg}`];
		if (given === undefined || streaming) continue;
		const got = f(body);
		if (got !== given)
			throw new S3Err(400, 'BadDigest', `The ${name} you specified did not match the calculated checksum.`,
				{}, `x-amz-checksum-${alg} ${given}, the body's ${got}`);
	}
}

// --- operations -------------------------------------------------------------

function opName(method, bucket, key, q, h) {
	if (bucket === '') return method === 'GET' ? 'ListBuckets' : 'Unknown';
	if (key === '') {
		if (method === 'GET') {
			if (q.has('location')) return 'GetBucketLocation';
			if (q.has('uploads')) return 'ListMultipartUploads';
			return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
		}
		return { PUT: 'CreateBucket', HEAD: 'HeadBucket', DELETE: 'DeleteBucket', POST: q.has('delete') ? 'DeleteObjects' : 'PostBucket' }[method] || 'Unknown';
	}
	switch (method) {
	case 'PUT':
		if (q.has('uploadId') || q.has('partNumber')) return h['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
		return h['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
	case 'POST':
		if (q.has('uploads')) return 'CreateMultipartUpload';
		if (q.has('uploadId')) return 'CompleteMultipartUpload';
		return 'PostObject';
	case 'DELETE':
		return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
	case 'GET':
		return q.has('uploadId') ? 'ListParts' : 'GetObject';
	case 'HEAD':
		return 'HeadObject';
	default:
		return 'Unknown';
	}
}

const NO_UPLOAD = (id) => new S3Err(404, 'NoSuchUpload',
	'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: id });

function knownUpload(id, bucket, key) {
	const u = id === undefined ? undefined : uploads.get(id);
	if (!u || u.bucket !== bucket || u.key !== key) throw NO_UPLOAD(id);
	return u;
}

// The <Part>s of a CompleteMultipartUpload body: [{ number, etag }].
function completeParts(xml) {
	const s = xml.toString('utf8');
	if (!/<CompleteMultipartUpload[\s>]/.test(s))
		throw new S3Err(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
	const parts = [];
	const unq = (t) => t.replace(/&quot;|&#34;|"/g, '').trim();
	for (const m of s.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
		const num = /<PartNumber>\s*([0-9]+)\s*<\/PartNumber>/.exec(m[1]);
		const tag = /<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]);
		if (!num || !tag)
			throw new S3Err(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
		parts.push({ number: Number(num[1]), etag: unq(tag[1]) });
	}
	if (parts.length === 0)
		throw new S3Err(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
	return parts;
}

// Multipart rules s3rver leaves out; throws S3Err.
function checkMultipart(op, bucket, key, q, body) {
	if (op === 'UploadPart' || op === 'UploadPartCopy') {
		const pn = q.get('partNumber');
		if (!/^[0-9]+$/.test(pn || '') || Number(pn) < 1 || Number(pn) > 10000)
			throw new S3Err(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
				{ ArgumentName: 'partNumber', ArgumentValue: pn === undefined ? '' : pn });
		knownUpload(q.get('uploadId'), bucket, key);
	} else if (op === 'AbortMultipartUpload' || op === 'ListParts') {
		knownUpload(q.get('uploadId'), bucket, key);
	} else if (op === 'CompleteMultipartUpload') {
		const id = q.get('uploadId');
		const u = knownUpload(id, bucket, key);
		const parts = completeParts(body);
		for (let i = 1; i < parts.length; i++)
			if (parts[i].number <= parts[i - 1].number)
				throw new S3Err(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', { UploadId: id });
		parts.forEach((p, i) => {
			const have = u.parts.get(p.number);
			if (!have || have.etag !== p.etag)
				throw new S3Err(400, 'InvalidPart', "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
					{ UploadId: id, PartNumber: p.number, ETag: p.etag });
			if (i < parts.length - 1 && have.size < opt.minPartSize)
				throw new S3Err(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.',
					{ ProposedSize: have.size, MinSizeAllowed: opt.minPartSize, PartNumber: p.number, ETag: p.etag });
		});
	}
}

// What a successful answer changes in the multipart bookkeeping.
function noteMultipart(op, bucket, key, q, upstream, size) {
	if (op === 'CreateMultipartUpload') {
		const m = /<UploadId>([^<]+)<\/UploadId>/.exec(upstream.body.toString('utf8'));
		if (m) uploads.set(m[1], { bucket, key, parts: new Map() });
	} else if (op === 'UploadPart') {
		const etag = String(upstream.headers.etag || '').replace(/"/g, '');
		uploads.get(q.get('uploadId')).parts.set(Number(q.get('partNumber')), { etag, size });
	} else if (op === 'CompleteMultipartUpload' || op === 'AbortMultipartUpload') {
		uploads.delete(q.get('uploadId'));
	}
}

// --- the proxy --------------------------------------------------------------

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'expect', 'proxy-connection', 'te', 'upgrade', 'trailer']);
const agent = new http.Agent({ keepAlive: true });
let upstreamPort = 0;

function forward(req, body) {
	const headers = [];
	for (let i = 0; i < req.rawHeaders.length; i += 2)
		if (!HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
	return new Promise((resolve, reject) => {
		const up = http.request({
			host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers, agent,
		}, (r) => {
			const parts = [];
			r.on('data', (c) => parts.push(c));
			r.on('end', () => resolve({ status: r.statusCode, rawHeaders: r.rawHeaders, headers: r.headers, body: Buffer.concat(parts) }));
			r.on('error', reject);
		});
		up.on('error', reject);
		up.end(body);
	});
}

function errorXml(e, resource, rid) {
	const extra = Object.entries(e.extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
	return '<?xml version="1.0" encoding="UTF-8"?>\n' +
		`<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message>${extra}` +
		`<Resource>${xmlEscape(resource)}</Resource><RequestId>${rid}</RequestId></Error>`;
}

async function handle(req, res) {
	if (await P.control(req, res, faults, () => ({
		...stats, faultsFired: faults.fired, pendingFaults: faults.pending, uploads: uploads.size,
	}))) return;

	const n = ++stats.requests;
	const qm = req.url.indexOf('?');
	const rawPath = qm < 0 ? req.url : req.url.slice(0, qm);
	const rawQuery = qm < 0 ? '' : req.url.slice(qm + 1);
	const segs = rawPath.replace(/^\//, '').split('/');
	const bucket = pctDecode(segs[0]) || '';
	const key = pctDecode(segs.slice(1).join('/')) || '';
	const pq = parseQuery(rawQuery);
	const q = new Map(pq.pairs || []);
	const h = req.headers;
	const op = opName(req.method, bucket, key, q, h);
	const rid = crypto.randomBytes(8).toString('hex').toUpperCase();
	const rec = {
		request: n, op, method: req.method, path: rawPath, query: rawQuery, bucket, key,
		uploadId: q.has('uploadId') ? q.get('uploadId') : null,
		partNumber: q.has('partNumber') ? q.get('partNumber') : null,
		status: null, error: null, detail: null, auth: null, bytes: 0, sha256: null,
		contentSha256: h['x-amz-content-sha256'] || null, contentMd5: h['content-md5'] || null,
		responseBytes: null, fault: null, tampered: false, faulted: false,
	};
	const count = (status, err) => {
		stats.byStatus[status] = (stats.byStatus[status] || 0) + 1;
		if (err) stats.byError[err] = (stats.byError[err] || 0) + 1;
	};
	const fail = (e) => {
		rec.status = e.status;
		rec.error = e.code;
		rec.detail = e.detail;
		count(e.status, e.code);
		log.write(rec);
		const xml = Buffer.from(errorXml(e, rawPath, rid));
		res.writeHead(e.status, { 'Content-Type': 'application/xml', 'Content-Length': xml.length, 'x-amz-request-id': rid });
		res.end(xml);
	};

	const fault = faults.take(['status', 'slow', 'reset', 'tamper'], req, (f) => {
		if (f.kind !== 'tamper') return true;
		if (f.where === 'response') return req.method === 'GET';
		return Number(h['content-length']) > 0;
	});
	if (fault) rec.fault = fault.kind;
	if (fault && fault.kind === 'reset' && fault.when !== 'response') {
		log.write(rec);
		req.socket.destroy();
		return;
	}

	const r = await P.readBody(req, opt.maxBody);
	if (r.aborted) {
		rec.detail = 'the client went away before the body was in';
		log.write(rec);
		return;
	}
	if (r.tooLarge) {
		fail(new S3Err(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: r.length, MaxSizeAllowed: opt.maxBody }));
		return;
	}
	const body = r.body;
	if (fault && fault.kind === 'tamper' && fault.where !== 'response' && body.length > 0) {
		body[body.length >> 1] ^= 0x01;
		rec.tampered = true;
	}
	rec.bytes = body.length;
	rec.sha256 = sha256hex(body);

	if (fault && fault.kind === 'status') {
		const code = fault.s3Code || { 500: 'InternalError', 503: 'SlowDown' }[fault.status] || 'InjectedFault';
		const message = fault.message || {
			InternalError: 'We encountered an internal error. Please try again.',
			SlowDown: 'Please reduce your request rate.',
		}[code] || `injected fault: status ${fault.status}`;
		fail(new S3Err(fault.status, code, message, {}, `injected fault: ${fault.status} ${code}`));
		return;
	}

	let payload;
	try {
		if (h['transfer-encoding'] !== undefined)
			throw new S3Err(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented',
				{ Header: 'Transfer-Encoding' }, `Transfer-Encoding: ${h['transfer-encoding']} (S3 wants Content-Length)`);
		if (req.method === 'PUT' && h['content-length'] === undefined)
			throw new S3Err(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
		if (pq.error) throw new S3Err(400, 'InvalidArgument', pq.error);
		rec.auth = h.authorization !== undefined ? 'header' : q.has('X-Amz-Algorithm') ? 'query' : 'none';
		const v = verify(req, rawPath, pq.pairs, headerLists(req));
		rec.auth = v.auth;
		payload = v.payload;
		checkBody(h, payload, body);
		checkMultipart(op, bucket, key, q, body);
	} catch (e) {
		if (!(e instanceof S3Err)) throw e;
		fail(e);
		return;
	}

	let up;
	try {
		up = await forward(req, body);
	} catch (e) {
		fail(new S3Err(500, 'InternalError', 'We encountered an internal error. Please try again.', {}, `s3rver: ${e.message}`));
		return;
	}
	if (up.status >= 200 && up.status < 300) {
		const size = payload === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
			? Number(h['x-amz-decoded-content-length']) : body.length;
		noteMultipart(op, bucket, key, q, up, size);
		if (['PutObject', 'CompleteMultipartUpload', 'CopyObject'].includes(op)) stats.stored++;
	} else {
		const m = /<Code>([^<]+)<\/Code>/.exec(up.body.toString('utf8'));
		rec.error = m ? m[1] : null;
		rec.detail = m ? 's3rver refused' : null;
	}
	let out = up.body;
	if (fault && fault.kind === 'tamper' && fault.where === 'response' && out.length > 0) {
		out = Buffer.from(out);
		out[out.length >> 1] ^= 0x01;
		rec.tampered = true;
	}
	rec.status = up.status;
	rec.responseBytes = out.length;
	rec.faulted = fault !== null && (fault.kind === 'slow' || fault.kind === 'reset') && up.status < 300;
	count(up.status, rec.error);
	log.write(rec);

	if (fault && fault.kind === 'slow') await P.sleep(fault.ms);
	const headers = [];
	for (let i = 0; i < up.rawHeaders.length; i += 2) {
		const k = up.rawHeaders[i].toLowerCase();
		if (!HOP.has(k) && !(k === 'content-length' && req.method !== 'HEAD')) headers.push(up.rawHeaders[i], up.rawHeaders[i + 1]);
	}
	if (req.method !== 'HEAD') headers.push('Content-Length', String(out.length));
	res.writeHead(up.status, headers);
	if (fault && fault.kind === 'reset') {
		// Headers and half the body, then the connection goes.
		res.write(out.subarray(0, out.length >> 1), () => req.socket.destroy());
		return;
	}
	res.end(out);
}

async function main() {
	const s3 = new S3rver({
		address: '127.0.0.1', port: 0, silent: true, directory: dir,
		// The proxy verifies signatures itself; s3rver's check disagrees with
		// S3 on query and header canonicalisation.
		allowMismatchedSignatures: true,
		configureBuckets: opt.bucket.map((name) => ({ name })),
	});
	const addr = await s3.run();
	upstreamPort = addr.port;
	const server = http.createServer((req, res) => {
		handle(req, res).catch((e) => {
			process.stderr.write(`${PROG}: internal error: ${e.stack}\n`);
			process.exit(3);
		});
	});
	server.keepAliveTimeout = 60000;
	await P.serve(server, opt.portFile, () => {
		agent.destroy();
		return Promise.race([s3.close().catch(() => {}), P.sleep(2000)]);
	});
}
main();
