// Public render API: pure functions from plain data to the text an instance or operator uses.
export * from "./model";
export * from "./cloudConfig";
export * from "./crypto";
export * from "./sshd";
export * from "./fail2ban";
export * from "./cloudInit";
export * from "./ssmAgent";
export * from "./cloudwatchAgent";
