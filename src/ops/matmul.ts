// SCAFFOLD: the matmul op family is being written in this session.
export {};
