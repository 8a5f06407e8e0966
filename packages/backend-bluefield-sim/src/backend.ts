/** Until the model exists, choosing this backend fails with the descriptor's NotImplementedError. */
import { NotImplementedError, type Backend } from '@flextoe/core';
import { descriptor } from './descriptor.js';

export const backend: Backend = {
  descriptor,
  createStack() {
    return Promise.reject(new NotImplementedError(descriptor));
  },
};
