// SCAFFOLD: the conv op family is being written in this session.
export {};
