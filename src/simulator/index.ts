/** The ministry simulator's public surface (see server.ts for the design). */
export {
  startSimulator,
  SIMULATOR_USER,
  SIMULATOR_PASSWORD,
  TEST_PREFIX,
  LIVE_PREFIX,
  type Simulator,
  type SimulatorOptions,
  type SimulatorCounts,
  type SimulatorRequestEvent,
} from './server.js';
export { defaultFaults, validateFaults, type Faults } from './faults.js';
export { sampleCodes, loadSampleCodes, validateSampleCode, SAMPLE, NO_LIMIT_EXPIRY, type SampleCode, type RawPlusValue } from './sample-codes.js';
export { runSimulatorCli, type SimulatorCliOptions } from './cli.js';
export { checkControlToken } from './control.js';
