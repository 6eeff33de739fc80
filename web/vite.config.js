import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Assets use absolute paths: `helix serve` answers client-side routes such as /comparison with
// index.html, so a relative asset path would break on nested routes.
export default defineConfig({
  base: '/',
  plugins: [react()],
  server: { port: 5173, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{js,jsx}'],
  },
});
