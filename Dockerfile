# The pipeline's own processes (edge, processors, connectors, paper venue): one image, one command each.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENTRYPOINT ["node", "--import", "tsx", "scripts/cli.ts"]
CMD ["start"]
