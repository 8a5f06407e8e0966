/**
 * The agilio-sim backend as one inversify container module (DESIGN.md 3). The backend is not built
 * yet, so loading the module fails with a clear NotImplementedError naming what is missing,
 * rather than binding anything that would pretend to work.
 */
import { ContainerModule } from 'inversify';
import { NotImplementedError } from '@flextoe/core';
import { descriptor } from './descriptor.js';

export const agilioSimModule = new ContainerModule(() => {
  throw new NotImplementedError(descriptor);
});
