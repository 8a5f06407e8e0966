export * from './store.js';
export * from './protocol.js';
export * from './server.js';
export { ReplyWriter, type ByteSink } from './reply-writer.js';
