/*
 * ui/undo.c -- the question Virtual PC asked at shutdown: what to do with the
 * changes the guest made to an undo disk.
 */
#include <SDL.h>

#include "../chipset/config.h"
#include "ui.h"

int ui_ask_undo(const char *vm_name)
{
    const SDL_MessageBoxButtonData buttons[] = {
        {SDL_MESSAGEBOX_BUTTON_ESCAPEKEY_DEFAULT, UNDO_KEEP, "Keep for later"},
        {0, UNDO_DISCARD, "Discard changes"},
        {SDL_MESSAGEBOX_BUTTON_RETURNKEY_DEFAULT, UNDO_COMMIT, "Commit to the disk"},
    };
    char text[512];
    snprintf(text, sizeof text,
             "%s has undo disks.\n\nCommit writes the guest's changes into the disk images, "
             "Discard throws them away, Keep saves them for the next run.",
             vm_name);
    const SDL_MessageBoxData box = {
        SDL_MESSAGEBOX_INFORMATION, NULL, "vsx: undo disks", text,
        (int)(sizeof buttons / sizeof buttons[0]), buttons, NULL,
    };
    bool inited = SDL_WasInit(SDL_INIT_VIDEO) != 0;
    if (!inited && SDL_InitSubSystem(SDL_INIT_VIDEO) != 0)
        return UNDO_KEEP; /* no display: nothing is lost */
    int choice = UNDO_KEEP;
    if (SDL_ShowMessageBox(&box, &choice) != 0 || choice < 0)
        choice = UNDO_KEEP;
    if (!inited)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    return choice;
}
