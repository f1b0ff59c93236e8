/**
 * The simulator's own credentials: public, documented, accepted by no ministry. They live with
 * the ministry stage, which recognises them (whoever answers to them is the simulator, whatever
 * the address or label says); the simulator (src/simulator/) accepts them and no others.
 */

/** The simulator's own user (not a ministry credential). */
export const SIMULATOR_USER = 'HESGATE-TEST';
/** The simulator's own default password: public, documented, accepted by no ministry. */
export const SIMULATOR_PASSWORD = 'simulator-password';
