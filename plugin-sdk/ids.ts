/** What a plugin id (`plugin.json` "id", a folder's name) and a module id (`voice1`) may look like. */
export const PLUGIN_ID_RE = /^[a-z][a-z0-9-]*$/;
export const MODULE_ID_RE = /^[a-z][a-z0-9_]*$/;
