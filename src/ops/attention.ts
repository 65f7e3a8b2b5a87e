// SCAFFOLD: the attention op family is being written in this session.
export {};
