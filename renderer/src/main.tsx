/** Boots the dashboard: connects to the backend, starts feeding the stores, renders the app. */
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { initClient } from './api/client.js';
import { startSync } from './stores/sync.js';
import { bindRouteToLocation } from './stores/ui.js';
import { bindTheme } from './theme.js';
import { App } from './App.js';

const { client, transport } = initClient();
startSync(client, transport);
bindRouteToLocation();
bindTheme();
createRoot(document.getElementById('root')!).render(<App />);
