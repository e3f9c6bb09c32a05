// jsforce 3 against the emulator: its four logins, paging, Tooling, describe, sObject Collections writes and
// reads, allOrNone, limits, identity, explain.
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { PROD, UAT, org, ready, requireClient, rest } from './harness.mjs';

const jsforce = requireClient('jsforce');
const VERSION = ready.api_version;
const prod = org(PROD);
const uat = org(UAT);

const b64url = (data) => Buffer.from(data).toString('base64url');

// An RS256 JWT bearer assertion signed with the connected app's key, built by hand as an integration would.
function assertion(connection) {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = b64url(JSON.stringify({
    iss: connection.admin.client_id, sub: connection.admin.username, aud: connection.audience,
    exp: Math.floor(Date.now() / 1000) + 180,
  }));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${signer.sign(readFileSync(connection.admin.private_key_file)).toString('base64url')}`;
}

const tokenConnection = () => new jsforce.Connection({
  instanceUrl: prod.instance_url, accessToken: prod.admin.access_token, version: VERSION,
});

async function whoAmI(conn) {
  const identity = await conn.identity();
  return identity.username;
}

describe('jsforce logins', () => {
  it('access token', async () => {
    assert.equal(await whoAmI(tokenConnection()), prod.admin.username);
  });

  it('JWT bearer, production and sandbox audiences', async () => {
    for (const connection of [prod, uat]) {
      const conn = new jsforce.Connection({ oauth2: { loginUrl: connection.login_url }, version: VERSION });
      const info = await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: assertion(connection) });
      assert.equal(info.organizationId, connection.org_id);
      assert.equal(await whoAmI(conn), connection.admin.username);
    }
  });

  it('client credentials', async () => {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: prod.login_url, clientId: prod.admin.client_id, clientSecret: prod.admin.client_secret },
      version: VERSION,
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    assert.equal(await whoAmI(conn), prod.admin.username);
  });

  it('username and password (OAuth, not SOAP)', async () => {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: prod.login_url, clientId: prod.admin.client_id, clientSecret: prod.admin.client_secret },
      version: VERSION,
    });
    const info = await conn.login(prod.admin.username, prod.admin.password + prod.admin.security_token);
    assert.equal(info.organizationId, prod.org_id);
    await assert.rejects(conn.login(prod.admin.username, 'wrong'), /authentication failure/);
  });
});

describe('jsforce data', () => {
  const conn = tokenConnection();

  it('query with autoFetch past 2,000 rows', async () => {
    const total = (await conn.query('SELECT COUNT() FROM Contact')).totalSize;
    assert.ok(total > 2000, String(total));
    const result = await conn.query('SELECT Id, LastName FROM Contact', { autoFetch: true, maxFetch: 100000 });
    const records = result.records;
    assert.equal(result.done, true);
    assert.equal(records.length, total);
    assert.equal(new Set(records.map((r) => r.Id)).size, total);
    const firstPage = await conn.query('SELECT Id FROM Contact');
    assert.equal(firstPage.done, false);
    assert.equal(firstPage.records.length, 2000);
    const next = await conn.queryMore(firstPage.nextRecordsUrl);
    assert.equal(next.records.length, total - 2000);
  });

  it('tooling query and describe', async () => {
    const classes = await conn.tooling.query('SELECT Id, Name FROM ApexClass');
    assert.deepEqual(classes.records.map((r) => r.Name), ['ClientSuiteHandler']);
    const account = await conn.describe('Account');
    const industry = account.fields.find((f) => f.name === 'Industry');
    assert.ok(industry.picklistValues.some((v) => v.value === 'Energy'));
    const global = await conn.describeGlobal();
    assert.ok(global.sobjects.some((s) => s.name === 'Account' && s.deprecatedAndHidden === false));
  });

  it('create, update and retrieve several records', async () => {
    const created = await conn.sobject('Account').create([
      { Name: 'jsforce A', Industry: 'Energy' }, { Name: 'jsforce B', Industry: 'Retail' },
      { Name: 'jsforce C', Industry: 'Finance' }]);
    assert.ok(created.every((r) => r.success), JSON.stringify(created));
    const ids = created.map((r) => r.id);
    const updated = await conn.sobject('Account').update(ids.map((Id) => ({ Id, Industry: 'Media' })));
    assert.ok(updated.every((r) => r.success), JSON.stringify(updated));
    const records = await conn.sobject('Account').retrieve(ids, { fields: ['Id', 'Name', 'Industry'] });
    assert.deepEqual(records.map((r) => r.Name), ['jsforce A', 'jsforce B', 'jsforce C']);
    assert.ok(records.every((r) => r.Industry === 'Media'));
    const all = await conn.sobject('Account').retrieve(ids);     // every field: jsforce describes first
    assert.equal(all[0].Id, ids[0]);
  });

  it('allOrNone collections roll back', async () => {
    const before = (await conn.query("SELECT COUNT() FROM Account WHERE Name LIKE 'AON %'")).totalSize;
    const results = await conn.sobject('Account').create(
      [{ Name: 'AON good', Industry: 'Energy' }, { Industry: 'Energy' }], { allOrNone: true });
    assert.ok(results.every((r) => !r.success), JSON.stringify(results));
    assert.equal(results[0].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
    assert.equal(results[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
    assert.equal((await conn.query("SELECT COUNT() FROM Account WHERE Name LIKE 'AON %'")).totalSize, before);
  });

  it('limits, identity, explain', async () => {
    const limits = await conn.limits();
    assert.ok(limits.DailyApiRequests.Max > 0);
    const check = await rest(PROD, 'GET', 'limits');
    assert.equal(check.body.DailyApiRequests.Max, limits.DailyApiRequests.Max);
    const identity = await conn.identity();
    assert.equal(identity.organization_id, prod.org_id);
    const plan = await conn.query("SELECT Id FROM Account WHERE Industry = 'Energy'").explain();
    assert.equal(plan.plans[0].sobjectType, 'Account');
    assert.equal(plan.plans[0].leadingOperationType, 'TableScan');
  });
});
