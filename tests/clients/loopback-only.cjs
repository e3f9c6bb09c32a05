// Preloaded (NODE_OPTIONS=--require) into the tests and every `sf` they run: names other than the loopback
// ones do not resolve, and connections go to loopback addresses only. The CLI's JWT login tries
// login.salesforce.com and test.salesforce.com among its audience/login combinations; with this guard those
// tries fail at once, on this machine, and the CLI goes on to the emulator's own URL.
'use strict';
const dns = require('node:dns');
const net = require('node:net');
const util = require('node:util');

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const isLoopbackAddress = (host) => host === '::1' || /^127\./.test(host) || host === 'localhost';

function refused(hostname) {
  const error = new Error(`getaddrinfo ENOTFOUND ${hostname} (the client suite reaches loopback only)`);
  error.code = 'ENOTFOUND';
  error.hostname = hostname;
  return error;
}

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  if (!LOOPBACK_NAMES.has(String(hostname).toLowerCase())) {
    process.nextTick(done, refused(hostname));
    return {};
  }
  return lookup.apply(this, arguments);
};
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function guardedPromisesLookup(hostname, ...rest) {
  if (!LOOPBACK_NAMES.has(String(hostname).toLowerCase())) return Promise.reject(refused(hostname));
  return promisesLookup.call(this, hostname, ...rest);
};
// util.promisify(dns.lookup) must still resolve to {address, family}, as the original's does.
dns.lookup[util.promisify.custom] = dns.promises.lookup;

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const options = typeof args[0] === 'object' && args[0] !== null && !Array.isArray(args[0]) ? args[0] : null;
  const host = options ? options.host : typeof args[1] === 'string' ? args[1] : undefined;
  const path = options ? options.path : typeof args[0] === 'string' && !/^\d+$/.test(args[0]) ? args[0] : undefined;
  if (!path && host && net.isIP(host) && !isLoopbackAddress(host)) {
    throw refused(host);
  }
  return connect.apply(this, args);
};
