// SCAFFOLD: the indexing op family is being written in this session.
export {};
