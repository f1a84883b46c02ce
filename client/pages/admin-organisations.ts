// New organisation: the hospital level only applies to hospitals, so it is hidden (and cleared) for
// other types. New user: only the roles the chosen organisation's type allows can be picked.
const typeSelect = document.querySelector<HTMLSelectElement>('[data-org-type]');
const levelField = document.querySelector<HTMLElement>('[data-hospital-only]');

function syncLevel(): void {
  if (!typeSelect || !levelField) return;
  const isHospital = typeSelect.value === 'hospital';
  levelField.hidden = !isHospital;
  const level = levelField.querySelector('select');
  if (level) {
    level.required = isHospital;
    if (!isHospital) level.value = '';
  }
}

function rolesByOrgType(): Record<string, string[]> {
  const el = document.getElementById('roles-by-org-type');
  try {
    return el?.textContent ? (JSON.parse(el.textContent) as Record<string, string[]>) : {};
  } catch {
    return {};
  }
}

const allowedRoles = rolesByOrgType();
const orgSelect = document.querySelector<HTMLSelectElement>('#user-org');
const roleSelect = document.querySelector<HTMLSelectElement>('#user-role');

function syncRoles(): void {
  if (!orgSelect || !roleSelect) return;
  const orgType = orgSelect.selectedOptions[0]?.dataset.orgType;
  const allowed = orgType ? allowedRoles[orgType] : undefined;
  for (const option of roleSelect.options) {
    if (!option.value) continue;
    option.disabled = !!allowed && !allowed.includes(option.value);
    option.hidden = option.disabled;
  }
  if (roleSelect.selectedOptions[0]?.disabled) roleSelect.value = '';
  if (allowed?.length === 1) roleSelect.value = allowed[0]!;
}

typeSelect?.addEventListener('change', syncLevel);
orgSelect?.addEventListener('change', syncRoles);
syncLevel();
syncRoles();
