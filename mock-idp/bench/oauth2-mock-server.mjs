// oauth2-mock-server 9.3.0 on its defaults: one generated RS256 key, any client accepted.
// Prints `ready addr=127.0.0.1:PORT` once listening.
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
console.log(`ready addr=127.0.0.1:${server.address().port}`);
