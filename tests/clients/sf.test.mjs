// The Salesforce CLI against the emulator, as an admin would use it: logins, org display, limits, queries,
// record commands, permission set (licence) assignment, tree export.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { PROD, UAT, org, ready, rest, sf } from './harness.mjs';

const prod = org(PROD);
const uat = org(UAT);

async function ok(args, env) {
  const run = await sf([...args, '--json'], env);
  assert.equal(run.status, 0, `sf ${args.join(' ')} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.json.status, 0, run.stdout);
  return run.json.result;
}

describe('sf logins', () => {
  it('org login access-token', async () => {
    const result = await ok(['org', 'login', 'access-token', '--instance-url', ready.base_url, '--no-prompt',
      '--alias', 'token'], { SF_ACCESS_TOKEN: prod.admin.access_token });
    assert.equal(result.username, prod.admin.username);
    assert.equal(result.orgId, prod.org_id);
  });

  it('org login jwt, production (audience login.salesforce.com)', async () => {
    const result = await ok(['org', 'login', 'jwt', '--client-id', prod.admin.client_id, '--jwt-key-file',
      prod.admin.private_key_file, '--username', prod.admin.username, '--instance-url', ready.base_url,
      '--alias', 'prod']);
    assert.equal(result.orgId, prod.org_id);
    assert.equal(result.isSandbox, false);
  });

  it('org login jwt, sandbox (audience test.salesforce.com)', async () => {
    const result = await ok(['org', 'login', 'jwt', '--client-id', uat.admin.client_id, '--jwt-key-file',
      uat.admin.private_key_file, '--username', uat.admin.username, '--instance-url', ready.base_url,
      '--alias', 'uat']);
    assert.equal(result.orgId, uat.org_id);
    assert.equal(result.isSandbox, true);
  });

  it('org display and org display user', async () => {
    const shown = await ok(['org', 'display', '--target-org', 'prod']);
    assert.equal(shown.id, prod.org_id);
    assert.equal(shown.connectedStatus, 'Connected');
    const user = await ok(['org', 'display', 'user', '--target-org', 'uat']);
    assert.equal(user.username, uat.admin.username);
    assert.equal(user.profileName, 'System Administrator');
    assert.equal(user.orgId, uat.org_id);
  });

  it('org list limits agrees with the limits resource', async () => {
    const limits = await ok(['org', 'list', 'limits', '--target-org', 'prod']);
    const api = limits.find((limit) => limit.name === 'DailyApiRequests');
    assert.ok(api && api.max > 0 && api.remaining <= api.max, JSON.stringify(api));
  });
});

describe('sf data query', () => {
  it('plain, with a relationship path, --json', async () => {
    const result = await ok(['data', 'query', '--target-org', 'prod', '--query',
      'SELECT Id, Name, Owner.Name FROM Account ORDER BY Name LIMIT 5']);
    assert.equal(result.records.length, 5);
    assert.equal(result.records[0].Owner.Name, 'Cli Admin');
  });

  it('human output names the relationship column (needs columns=true)', async () => {
    const run = await sf(['data', 'query', '--target-org', 'prod', '--query',
      'SELECT Name, Owner.Name FROM Account ORDER BY Name LIMIT 2']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /OWNER\.NAME/);
    assert.match(run.stdout, /Total number of records retrieved: 2\./);
  });

  it('child subquery', async () => {
    const run = await sf(['data', 'query', '--target-org', 'prod', '--query',
      'SELECT Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name LIMIT 3']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /CONTACTS\.LASTNAME/);
  });

  it('COUNT() and GROUP BY', async () => {
    const count = await ok(['data', 'query', '--target-org', 'prod', '--query', 'SELECT COUNT() FROM Contact']);
    assert.ok(count.totalSize > 2000, String(count.totalSize));
    const grouped = await ok(['data', 'query', '--target-org', 'prod', '--query',
      'SELECT Industry, COUNT(Id) total FROM Account GROUP BY Industry']);
    const sum = grouped.records.reduce((acc, row) => acc + row.total, 0);
    const accounts = await ok(['data', 'query', '--target-org', 'prod', '--query', 'SELECT COUNT() FROM Account']);
    assert.equal(sum, accounts.totalSize);
    const table = await sf(['data', 'query', '--target-org', 'prod', '--query',
      'SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry']);
    assert.equal(table.status, 0, table.stderr);
  });

  it('more than 2,000 rows (all pages fetched)', async () => {
    const count = (await rest(PROD, 'GET', 'query?q=SELECT+COUNT()+FROM+Contact')).body.totalSize;
    const result = await ok(['data', 'query', '--target-org', 'prod', '--query', 'SELECT Id, LastName FROM Contact']);
    assert.equal(result.totalSize, count);
    assert.equal(result.records.length, count);
    assert.equal(new Set(result.records.map((r) => r.Id)).size, count);
  });

  it('--use-tooling-api and --result-format csv', async () => {
    const tooling = await ok(['data', 'query', '--target-org', 'prod', '--use-tooling-api', '--query',
      'SELECT Id, Name FROM ApexClass']);
    assert.deepEqual(tooling.records.map((r) => r.Name), ['ClientSuiteHandler']);
    const human = await sf(['data', 'query', '--target-org', 'prod', '--use-tooling-api', '--query',
      'SELECT Name FROM ApexClass']);
    assert.equal(human.status, 0, human.stderr);
    const csv = await sf(['data', 'query', '--target-org', 'prod', '--result-format', 'csv', '--query',
      'SELECT Name, Industry FROM Account ORDER BY Name LIMIT 3']);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'Name,Industry');
    assert.equal(lines.length, 4);
  });
});

describe('sf data record commands', () => {
  let created;
  it('create record', async () => {
    const result = await ok(['data', 'create', 'record', '--target-org', 'prod', '--sobject', 'Account',
      '--values', "Name='CLI Created' Industry=Energy"]);
    assert.equal(result.success, true);
    created = result.id;
  });

  it('get record by id and by where', async () => {
    const byId = await ok(['data', 'get', 'record', '--target-org', 'prod', '--sobject', 'Account',
      '--record-id', created]);
    assert.equal(byId.Name, 'CLI Created');
    const byWhere = await ok(['data', 'get', 'record', '--target-org', 'prod', '--sobject', 'Account',
      '--where', "Name='CLI Created'"]);
    assert.equal(byWhere.Id, created);
  });

  it('update record', async () => {
    await ok(['data', 'update', 'record', '--target-org', 'prod', '--sobject', 'Account', '--record-id', created,
      '--values', "Industry=Retail Name='CLI Updated'"]);
    const record = (await rest(PROD, 'GET', `sobjects/Account/${created}`)).body;
    assert.equal(record.Industry, 'Retail');
    assert.equal(record.Name, 'CLI Updated');
  });

  it('export tree', async () => {
    const dir = mkdtempSync(join(process.env.SFEMU_WORK, 'tree-'));
    await ok(['data', 'export', 'tree', '--target-org', 'prod', '--output-dir', dir, '--query',
      'SELECT Id, Name, Industry, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name LIMIT 3']);
    const [file] = readdirSync(dir);
    const tree = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    assert.equal(tree.records.length, 3);
    assert.equal(tree.records[0].attributes.referenceId, 'AccountRef1');
  });
});

describe('sf org assign', () => {
  it('permset twice: the second says Duplicate PermissionSetAssignment (what idempotent scripts match)', async () => {
    const args = ['org', 'assign', 'permset', '--target-org', 'prod', '--name', 'Sync_Read', '--on-behalf-of',
      'svc.sync@clients.example', '--json'];
    const first = await sf(args);
    assert.equal(first.status, 0, first.stdout);
    assert.deepEqual(first.json.result.successes.map((s) => s.value), ['Sync_Read']);
    const second = await sf(args);
    const failures = second.json.result?.failures ?? second.json.data?.failures ?? [];
    assert.equal(failures.length, 1, second.stdout);
    assert.match(failures[0].message, /^Duplicate PermissionSetAssignment/);
  });

  it('permsetlicense twice: the second is the CLI\'s "already has" warning, exit 0', async () => {
    const args = ['org', 'assign', 'permsetlicense', '--target-org', 'prod', '--name', 'SalesforceAPIIntegrationPsl',
      '--on-behalf-of', 'svc.sync@clients.example'];
    await ok(args);
    const second = await sf([...args, '--json']);
    assert.equal(second.status, 0, second.stdout);
    assert.ok(second.json.warnings.some((w) => /already has/.test(w)), second.stdout);
    const held = (await rest(PROD, 'GET', 'query?q=' + encodeURIComponent(
      "SELECT COUNT() FROM PermissionSetLicenseAssign WHERE Assignee.Username = 'svc.sync@clients.example'"))).body;
    assert.equal(held.totalSize, 1);
  });
});
