// Shared by the client tests: the running emulator (READY.json from run.sh) and a way to run `sf`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const ready = JSON.parse(readFileSync(process.env.SFEMU_READY, 'utf8'));
export const PROD = 'clients-prod';
export const UAT = 'clients-uat';
export const org = (name) => ready.orgs[name];

const clientsDir = process.env.CLIENTS_DIR;
// The packages live in the install folder (tests/output/clients), not beside these files.
export const requireClient = createRequire(join(clientsDir, 'package.json'));
const sfRun = join(clientsDir, 'node_modules', '@salesforce', 'cli', 'bin', 'run.js');

// One private home per test file: the CLI keeps its auth files and aliases there, nothing leaks in or out.
const home = mkdtempSync(join(process.env.SFEMU_WORK, 'sf-home-'));

function sfEnv(extra) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Nothing of a developer's own CLI set-up (SF_*, SFDX_*, XDG dirs) reaches these runs.
    if (!/^(SF_|SFDX_|XDG_)/.test(key)) env[key] = value;
  }
  return {
    ...env, HOME: home, SF_DISABLE_AUTOUPDATE: 'true', SF_AUTOUPDATE_DISABLE: 'true',
    SF_DISABLE_TELEMETRY: 'true', SF_USE_GENERIC_UNIX_KEYCHAIN: 'true', SF_SKIP_NEW_VERSION_CHECK: 'true',
    SF_HIDE_RELEASE_NOTES: 'true', SF_LOG_LEVEL: 'warn', ...extra,
  };
}

// Runs `sf ARGS...`; resolves {status, stdout, stderr, json} (json: the parsed --json output, if any).
export function sf(args, extraEnv = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [sfRun, ...args], { env: sfEnv(extraEnv), maxBuffer: 64 * 1024 * 1024, timeout: 120000 },
      (error, stdout, stderr) => {
        let json = null;
        if (args.includes('--json')) {
          try { json = JSON.parse(stdout); } catch { json = null; }
        }
        resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr, json });
      });
  });
}

// Emulator REST call as an org's admin (set-up and checks that go around the client under test).
export async function rest(orgName, method, path, body) {
  const answer = await fetch(`${ready.base_url}/services/data/v${ready.api_version}/${path}`, {
    method,
    headers: { Authorization: `Bearer ${org(orgName).admin.access_token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}
