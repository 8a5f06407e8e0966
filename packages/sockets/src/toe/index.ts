// The low-level API (FlexTOE's libTOE layer): zero-copy rings, bumps, pollers.
export { createToe, Toe, type ToeConnectOptions } from './toe.js';
export { ToeConnection, type Pollable } from './connection.js';
export { ToeListener, type ToeListenOptions } from './listener.js';
export { Poller, type ToeReady } from './poller.js';
export { ToeEvent, describeEvents, type ToeEventFlags } from './events.js';
