// SCAFFOLD: the nn op family is being written in this session.
export {};
