/**
 * (placeholder until this area lands)
 * @packageDocumentation
 */
export {};
