// SCAFFOLD: the shape op family is being written in this session.
export {};
