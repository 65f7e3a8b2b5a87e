// SCAFFOLD: the reduce op family is being written in this session.
export {};
