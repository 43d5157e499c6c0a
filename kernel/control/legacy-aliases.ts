/** Addresses of the old engine (OSC.md) that name a module or parameter differently. Prefix aliases end with '/'. */
export const LEGACY_ALIASES: Readonly<Record<string, string>> = {
  '/mod/sine1/': '/mod/voice1/',
  '/mod/filter1/': '/mod/voice1/filter/',
  '/mod/adsr1/': '/mod/voice1/adsr/',
  '/gate/adsr1': '/gate/voice1',
  '/gate/1': '/gate/voice1',
  '/gate/acid1': '/gate/voice2',
};
