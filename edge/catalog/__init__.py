"""The service catalog (便民服务事项目录): items, their guides and one-time notices."""
