/** The real Redis processes the city tests start (one implementation, shared with bench/city.ts). */
export * from '../../bench/redis-process.js';
